#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <sstream>

#include "layers/dropout.h"
#include "layers/state_dict.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "tensor/safetensors.h"
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

void reseed_dropout(Module& model, uint64_t seed, int64_t epoch) {
  uint64_t index = 0;
  for (auto& [name, module] : model.named_modules()) {
    if (auto* dropout = dynamic_cast<Dropout*>(module)) {
      // Distinct, well-mixed streams per (seed, epoch, layer).
      uint64_t mixed = seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(epoch) << 20) ^ index;
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
  // The schedule sets group 0's lr; other groups (a fine-tuned base at a
  // smaller lr) keep the ratio they started with, as optim::Scheduler does.
  // Taken before a checkpoint is loaded: its lrs are the schedule's last ones.
  std::vector<double> group_scale;
  for (size_t g = 0; g < setup.optimizer.param_groups().size(); ++g)
    group_scale.push_back(setup.optimizer.lr(0) > 0 ? setup.optimizer.lr(g) / setup.optimizer.lr(0) : 1.0);
  History history;
  if (resume && !config.checkpoint_path.empty() && file_exists(config.checkpoint_path)) {
    history = load_checkpoint(config.checkpoint_path, model, setup.optimizer);
    if (!config.quiet)
      std::printf("Resuming from %s after epoch %zu\n", config.checkpoint_path.c_str(), history.epochs.size());
  }
  std::vector<int32_t> val_labels = setup.validation.label_vector();
  InterruptGuard guard;
  const int64_t steps_per_epoch = setup.train_loader.batches_per_epoch();
  int64_t epochs_this_run = 0;

  for (int64_t epoch = static_cast<int64_t>(history.epochs.size()); epoch < config.epochs; ++epoch) {
    model.train();
    reseed_dropout(model, config.seed, epoch);
    auto started = std::chrono::steady_clock::now();
    ProgressBar bar(steps_per_epoch, str("Epoch ", epoch + 1, "/", config.epochs));
    double loss_sum = 0.0;
    int64_t seen = 0, correct = 0, step = epoch * steps_per_epoch, batch_index = 0;
    float lr = 0.0f;

    auto batches = setup.train_loader.epoch(epoch);
    while (auto batch = batches.next()) {
      lr = static_cast<float>(setup.schedule.lr(step));
      for (size_t g = 0; g < group_scale.size(); ++g)
        setup.optimizer.set_lr(g, static_cast<float>(lr * group_scale[g]));
      Tensor x = batch->images.to(config.device);
      Tensor y = batch->labels.to(config.device);
      Tensor logits = model(x);
      Tensor loss = ops::cross_entropy(logits, y, config.label_smoothing);
      setup.optimizer.zero_grad();
      loss.backward();
      setup.optimizer.step();

      int64_t n = x.size(0);
      loss_sum += static_cast<double>(loss.item()) * n;
      correct += count_correct(logits.detach(), y);
      seen += n;
      ++step;
      ++batch_index;
      if (!config.quiet)
        bar.update(batch_index, seen, {{"loss", loss_sum / seen}, {"acc", static_cast<double>(correct) / seen}});
      if (interrupt_requested()) break;
    }
    if (interrupt_requested()) {
      history.interrupted = true;
      std::printf("\nInterrupted: epoch %lld was not finished and is dropped.%s\n",
                  static_cast<long long>(epoch + 1),
                  history.epochs.empty() ? "" : " Everything up to the last finished epoch is saved.");
      break;
    }

    EpochRecord record;
    record.epoch = epoch + 1;
    record.train_loss = seen ? loss_sum / seen : 0.0;
    record.train_accuracy = seen ? static_cast<double>(correct) / seen : 0.0;
    record.learning_rate = lr;
    std::vector<std::pair<std::string, double>> shown{{"loss", record.train_loss}, {"acc", record.train_accuracy}};
    if (setup.validation.size() > 0) {
      Predictions val = predict(model, setup.validation.images, val_labels, config.device, config.eval_batch_size);
      record.val_loss = val.mean_loss;
      record.val_accuracy = val.accuracy();
      shown.push_back({"val_loss", record.val_loss});
      shown.push_back({"val_acc", record.val_accuracy});
    }
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record.images_per_second = record.seconds > 0 ? seen / record.seconds : 0.0;
    if (!config.quiet) bar.finish(shown, seen);
    history.epochs.push_back(record);

    if (!config.checkpoint_path.empty()) save_checkpoint(config.checkpoint_path, model, setup.optimizer, history);
    if (on_epoch) on_epoch(history);
    if (config.stop_after > 0 && ++epochs_this_run >= config.stop_after && epoch + 1 < config.epochs) {
      history.interrupted = true;
      if (!config.quiet)
        std::printf("Stopping after %lld epoch(s) as asked (--stop-after); continue with --resume\n",
                    static_cast<long long>(epochs_this_run));
      break;
    }
  }
  model.eval();
  return history;
}

}  // namespace nib::train
