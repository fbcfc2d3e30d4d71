#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <sstream>

#include "distributed/communicator.h"
#include "distributed/gradient_sync.h"
#include "distributed/shard.h"
#include "formats/safetensors.h"
#include "layers/dropout.h"
#include "layers/state_dict.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "train/evaluate.h"
#include "util/files.h"
#include "util/progress.h"

namespace nib::train {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  if (g_interrupted.exchange(true)) std::_Exit(130);  // a second Ctrl-C: stop at once
}

// Installs the Ctrl-C handler for the duration of fit().
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = false;
    previous_ = std::signal(SIGINT, on_sigint);
  }
  ~InterruptGuard() { std::signal(SIGINT, previous_); }

 private:
  void (*previous_)(int);
};

// Number of rows whose argmax equals the label.
int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  std::vector<float> z = logits.to_vector();
  Tensor cpu_labels = labels.cpu();
  const int32_t* y = cpu_labels.data_as<int32_t>();
  int64_t rows = logits.size(0), cols = logits.size(1), right = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = z.data() + r * cols;
    int64_t best = 0;
    for (int64_t c = 1; c < cols; ++c)
      if (row[c] > row[best]) best = c;
    right += best == y[r];
  }
  return right;
}

// The history travels inside the checkpoint as CSV text in its metadata.
const char* kHistoryHeader = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,images_per_second";


History history_from_csv(const std::string& text, const std::string& path) {
  History h;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  NIB_CHECK(line == kHistoryHeader, path, ": checkpoint history has an unexpected header '", line, "'");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    EpochRecord e;
    char comma;
    std::istringstream row(line);
    row >> e.epoch >> comma >> e.train_loss >> comma >> e.train_accuracy >> comma >> e.val_loss >> comma >>
        e.val_accuracy >> comma >> e.learning_rate >> comma >> e.seconds >> comma >> e.images_per_second;
    NIB_CHECK(!row.fail(), path, ": malformed history line '", line, "'");
    h.epochs.push_back(e);
  }
  return h;
}

// How a global batch is cut (distributed/shard.h): "32 per rank", "33 + 32 per
// rank", "17 on ranks 0-2, 16 on the others".
std::string describe_split(int64_t batch, int ranks) {
  const int64_t base = batch / ranks, extra = batch % ranks;
  if (extra == 0) return str(base, " per rank");
  if (ranks > 4) return str(base + 1, " on ranks 0-", extra - 1, ", ", base, " on the others");
  std::string text;
  for (int r = 0; r < ranks; ++r) text += (r ? " + " : "") + std::to_string(distributed::shard_rows(batch, r, ranks).size());
  return text + " per rank";
}

NamedTensors with_prefix(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
  return out;
}

NamedTensors take_prefix(const std::string& prefix, const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

}  // namespace

std::string history_to_csv(const History& h) {
  std::ostringstream out;
  out << kHistoryHeader << "\n";
  out.precision(9);
  for (const auto& e : h.epochs)
    out << e.epoch << ',' << e.train_loss << ',' << e.train_accuracy << ',' << e.val_loss << ',' << e.val_accuracy
        << ',' << e.learning_rate << ',' << e.seconds << ',' << e.images_per_second << "\n";
  return out.str();
}

bool interrupt_requested() { return g_interrupted.load(); }

void reseed_dropout(Module& model, uint64_t seed, int64_t epoch, int rank) {
  uint64_t index = 0;
  for (auto& [name, module] : model.named_modules()) {
    if (auto* dropout = dynamic_cast<Dropout*>(module)) {
      // Distinct, well-mixed streams per (seed, epoch, layer, rank); rank 0's are those of a single process.
      uint64_t mixed = seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(epoch) << 20) ^ index ^
                       (static_cast<uint64_t>(rank) << 44);
      dropout->generator().reseed(mixed);
    }
    ++index;
  }
}

void save_checkpoint(const std::string& path, const Module& model, const optim::Optimizer& optimizer,
                     const History& history) {
  NamedTensors all = with_prefix("model.", model.state_dict());
  for (auto& entry : with_prefix("optim.", optimizer.state_dict())) all.push_back(entry);
  std::map<std::string, std::string> metadata{{"format", "nib-checkpoint-1"},
                                              {"epochs_done", std::to_string(history.epochs.size())},
                                              {"history", history_to_csv(history)}};
  save_safetensors(path, all, metadata);  // atomic: written to a temporary file, then renamed
}

History load_checkpoint(const std::string& path, Module& model, optim::Optimizer& optimizer) {
  SafeTensorsFile file = load_safetensors(path);
  NIB_CHECK(file.metadata.count("format") && file.metadata.at("format") == "nib-checkpoint-1", path,
            ": not a nib training checkpoint (no format=nib-checkpoint-1 in its metadata)");
  try {
    load_state_dict(model, take_prefix("model.", file.tensors), /*strict=*/true);
    optimizer.load_state_dict(take_prefix("optim.", file.tensors));
  } catch (const Error& e) {
    fail(path, ": checkpoint does not match this model/optimizer: ", e.what());
  }
  return history_from_csv(file.metadata.count("history") ? file.metadata.at("history") : kHistoryHeader, path);
}

History read_checkpoint_history(const std::string& path) {
  SafeTensorsFile file = load_safetensors(path);
  NIB_CHECK(file.metadata.count("format") && file.metadata.at("format") == "nib-checkpoint-1", path,
            ": not a nib training checkpoint (no format=nib-checkpoint-1 in its metadata)");
  return history_from_csv(file.metadata.count("history") ? file.metadata.at("history") : kHistoryHeader, path);
}

History fit(TrainSetup setup, const TrainConfig& config, bool resume, const EpochCallback& on_epoch) {
  Module& model = setup.model;
  distributed::Communicator& comm = config.comm ? *config.comm : distributed::single_process();
  const bool root = comm.is_root(), alone = comm.size() == 1;
  const bool quiet = config.quiet || !root;
  const data::LoaderOptions& sharding = setup.train_loader.options();
  NIB_CHECK(sharding.shard == comm.rank() && sharding.shards == comm.size(), "fit: the training loader takes shard ",
            sharding.shard, " of ", sharding.shards, " but this is rank ", comm.rank(), " of ", comm.size());
  // The schedule sets group 0's lr; other groups (a fine-tuned base at a
  // smaller lr) keep the ratio they started with, as optim::Scheduler does.
  // Taken before a checkpoint is loaded: its lrs are the schedule's last ones.
  std::vector<double> group_scale;
  for (size_t g = 0; g < setup.optimizer.param_groups().size(); ++g)
    group_scale.push_back(setup.optimizer.lr(0) > 0 ? setup.optimizer.lr(g) / setup.optimizer.lr(0) : 1.0);
  History history;
  // Rank 0 decides whether there is a checkpoint to resume from; every rank then reads it.
  const bool load = distributed::broadcast_flag(
      comm, resume && !config.checkpoint_path.empty() && root && file_exists(config.checkpoint_path));
  if (load) {
    history = load_checkpoint(config.checkpoint_path, model, setup.optimizer);
    if (!quiet) std::printf("Resuming from %s after epoch %zu\n", config.checkpoint_path.c_str(), history.epochs.size());
  }
  // Every rank starts from rank 0's parameters and buffers, as DDP does.
  distributed::broadcast_tensors(comm, model.state_dict());
  distributed::GradientSync gradients(setup.optimizer.param_groups(), comm);
  if (!alone && !quiet)
    std::printf("batch   %lld = %s; gradients averaged in %s per step\n", static_cast<long long>(sharding.batch_size),
                describe_split(sharding.batch_size, comm.size()).c_str(), gradients.describe().c_str());

  std::vector<int32_t> val_labels = setup.validation.label_vector();
  std::optional<InterruptGuard> guard;  // under mpirun, Ctrl-C ends every rank instead
  if (alone) guard.emplace();
  const int64_t steps_per_epoch = setup.train_loader.batches_per_epoch();
  int64_t epochs_this_run = 0;

  for (int64_t epoch = static_cast<int64_t>(history.epochs.size()); epoch < config.epochs; ++epoch) {
    model.train();
    reseed_dropout(model, config.seed, epoch, comm.rank());
    auto started = std::chrono::steady_clock::now();
    ProgressBar bar(steps_per_epoch, str("Epoch ", epoch + 1, "/", config.epochs));
    // Sums over this rank's rows; added up across ranks at the end of the epoch.
    double loss_sum = 0.0, seen = 0, correct = 0;
    int64_t global_seen = 0, step = epoch * steps_per_epoch, batch_index = 0;
    float lr = 0.0f;

    auto batches = setup.train_loader.epoch(epoch);
    while (auto batch = batches.next()) {
      lr = static_cast<float>(setup.schedule.lr(step));
      for (size_t g = 0; g < group_scale.size(); ++g)
        setup.optimizer.set_lr(g, static_cast<float>(lr * group_scale[g]));
      const int64_t n = batch->images.size(0);
      setup.optimizer.zero_grad();
      if (n > 0) {  // a rank's shard of a last, short batch may be empty
        Tensor x = batch->images.to(config.device);
        Tensor y = batch->labels.to(config.device);
        Tensor logits = model(x);
        Tensor loss = ops::cross_entropy(logits, y, config.label_smoothing);
        loss.backward();
        loss_sum += static_cast<double>(loss.item()) * n;
        correct += static_cast<double>(count_correct(logits.detach(), y));
        seen += static_cast<double>(n);
      }
      gradients.average(n, batch->global_rows);
      setup.optimizer.step();

      global_seen += batch->global_rows;
      ++step;
      ++batch_index;
      // Under several ranks the bar shows rank 0's loss and accuracy; the epoch's line, all ranks'.
      if (!quiet)
        bar.update(batch_index, global_seen, {{"loss", loss_sum / std::max(seen, 1.0)}, {"acc", correct / std::max(seen, 1.0)}});
      if (interrupt_requested()) break;
    }
    if (interrupt_requested()) {
      history.interrupted = true;
      std::printf("\nInterrupted: epoch %lld was not finished and is dropped.%s\n",
                  static_cast<long long>(epoch + 1),
                  history.epochs.empty() ? "" : " Everything up to the last finished epoch is saved.");
      break;
    }

    double totals[3] = {loss_sum, correct, seen};
    comm.sum(totals, 3);
    EpochRecord record;
    record.epoch = epoch + 1;
    record.train_loss = totals[2] > 0 ? totals[0] / totals[2] : 0.0;
    record.train_accuracy = totals[2] > 0 ? totals[1] / totals[2] : 0.0;
    record.learning_rate = lr;
    std::vector<std::pair<std::string, double>> shown{{"loss", record.train_loss}, {"acc", record.train_accuracy}};
    if (setup.validation.size() > 0) {
      // BatchNorm's running statistics are each rank's own: evaluate with rank 0's, which the checkpoint keeps.
      distributed::broadcast_tensors(comm, model.named_buffers());
      Predictions val =
          predict(model, setup.validation.images, val_labels, config.device, config.eval_batch_size, &comm);
      record.val_loss = val.mean_loss;
      record.val_accuracy = val.accuracy();
      shown.push_back({"val_loss", record.val_loss});
      shown.push_back({"val_acc", record.val_accuracy});
    }
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record.images_per_second = record.seconds > 0 ? static_cast<double>(global_seen) / record.seconds : 0.0;
    if (!quiet) bar.finish(shown, global_seen);
    history.epochs.push_back(record);

    if (!config.checkpoint_path.empty() && root) save_checkpoint(config.checkpoint_path, model, setup.optimizer, history);
    if (on_epoch) on_epoch(history);
    if (config.stop_after > 0 && ++epochs_this_run >= config.stop_after && epoch + 1 < config.epochs) {
      history.interrupted = true;
      if (!quiet)
        std::printf("Stopping after %lld epoch(s) as asked (--stop-after); continue with --resume\n",
                    static_cast<long long>(epochs_this_run));
      break;
    }
  }
  model.eval();
  return history;
}

}  // namespace nib::train
