#include "datasets/loader.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "distributed/shard.h"
#include "kernels/counter_rng.h"
#include "tensor/random.h"

namespace nib::data {

namespace {

// Independent random streams per purpose, each a pure function of its inputs.
constexpr uint64_t kShuffleStream = 0x5348554646ull;  // "SHUFF"
constexpr uint64_t kAugmentStream = 0x4155474dull;    // "AUGM"

uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b = 0) {
  return kernels::counter_hash(kernels::counter_hash(seed ^ stream, a), b);
}

}  // namespace

// What one epoch needs, shared between the caller and the background thread.
struct Epoch::State {
  Dataset dataset;
  std::vector<int64_t> order;
  LoaderOptions options;
  int64_t epoch = 0, batches = 0;

  // Synchronous mode (prefetch == 0) only needs this counter.
  int64_t next_batch = 0;

  // The prefetch queue: the worker fills `ready` up to options.prefetch batches.
  std::thread worker;
  std::mutex mutex;
  std::condition_variable has_batch, has_space;
  std::deque<Batch> ready;
  bool stop = false, finished = false;
  std::exception_ptr error;

  Batch make_batch(int64_t b) const;
  void produce();
};

Batch Epoch::State::make_batch(int64_t b) const {
  const int64_t global_begin = b * options.batch_size;
  const int64_t global_end = std::min<int64_t>(global_begin + options.batch_size, static_cast<int64_t>(order.size()));
  const distributed::RowRange mine = distributed::shard_rows(global_end - global_begin, options.shard, options.shards);
  const int64_t begin = global_begin + mine.begin, end = global_begin + mine.end;
  Batch batch;
  batch.indices.assign(order.begin() + begin, order.begin() + end);
  batch.global_rows = global_end - global_begin;

  Shape shape = dataset.images.shape();
  const size_t row = static_cast<size_t>(dataset.images.numel() / shape[0]);
  shape[0] = end - begin;
  batch.images = Tensor::empty(shape);
  if (dataset.labelled()) batch.labels = Tensor::empty({shape[0]}, kCPU, DType::I32);
  for (size_t k = 0; k < batch.indices.size(); ++k) {
    int64_t i = batch.indices[k];
    std::memcpy(batch.images.data() + k * row, dataset.images.data() + i * row, row * sizeof(float));
    if (dataset.labelled()) batch.labels.data_as<int32_t>()[k] = dataset.labels.data_as<int32_t>()[i];
  }
  if (options.augment.any())
    batch.images = augment_batch(batch.images, options.augment, derive_seed(options.seed, kAugmentStream, epoch, b),
                                 mine.begin);
  return batch;
}

void Epoch::State::produce() {
  try {
    for (int64_t b = 0; b < batches; ++b) {
      Batch batch = make_batch(b);
      std::unique_lock lock(mutex);
      has_space.wait(lock, [&] { return stop || static_cast<int>(ready.size()) < options.prefetch; });
      if (stop) return;
      ready.push_back(std::move(batch));
      has_batch.notify_one();
    }
  } catch (...) {
    std::lock_guard lock(mutex);
    error = std::current_exception();
  }
  std::lock_guard lock(mutex);
  finished = true;
  has_batch.notify_one();
}

Epoch::Epoch(std::unique_ptr<State> state) : state_(std::move(state)) {
  if (state_->options.prefetch > 0) state_->worker = std::thread([s = state_.get()] { s->produce(); });
}

Epoch::Epoch(Epoch&&) noexcept = default;
Epoch& Epoch::operator=(Epoch&& other) noexcept {
  if (this != &other) {
    Epoch discarded(std::move(*this));  // stops our worker, if any
    state_ = std::move(other.state_);
  }
  return *this;
}

Epoch::~Epoch() {
  if (!state_ || !state_->worker.joinable()) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->has_space.notify_all();
  state_->worker.join();
}

std::optional<Batch> Epoch::next() {
  NIB_CHECK(state_ != nullptr, "Epoch::next on a moved-from epoch");
  State& s = *state_;
  if (s.options.prefetch <= 0) {
    if (s.next_batch >= s.batches) return std::nullopt;
    return s.make_batch(s.next_batch++);
  }
  std::unique_lock lock(s.mutex);
  s.has_batch.wait(lock, [&] { return !s.ready.empty() || s.finished; });
  if (!s.ready.empty()) {
    Batch batch = std::move(s.ready.front());
    s.ready.pop_front();
    s.has_space.notify_one();
    return batch;
  }
  if (s.error) std::rethrow_exception(std::exchange(s.error, nullptr));
  return std::nullopt;
}

DataLoader::DataLoader(const Dataset& dataset, std::vector<int64_t> indices, LoaderOptions options)
    : dataset_(dataset), indices_(std::move(indices)), options_(std::move(options)) {
  check_defined(dataset_.images, "DataLoader", "images");
  NIB_CHECK(dataset_.images.device().is_cpu() && dataset_.images.dtype() == DType::F32 && dataset_.images.dim() >= 1,
            "DataLoader: images must be a float32 CPU tensor [N, ...], got ", dataset_.images.shape());
  NIB_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ", options_.batch_size);
  NIB_CHECK(options_.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options_.prefetch);
  NIB_CHECK(options_.shards >= 1 && 0 <= options_.shard && options_.shard < options_.shards, "DataLoader: shard ",
            options_.shard, " of ", options_.shards, " does not exist");
  for (int64_t i : indices_)
    NIB_CHECK(0 <= i && i < dataset_.size(), "DataLoader: index ", i, " is outside ", dataset_.source, " (",
              dataset_.size(), " examples)");
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = size(), bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

std::vector<int64_t> DataLoader::order(int64_t e) const {
  std::vector<int64_t> order = indices_;
  if (options_.shuffle) {
    Generator gen(derive_seed(options_.seed, kShuffleStream, static_cast<uint64_t>(e)));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.below(static_cast<uint32_t>(i))]);
  }
  return order;
}

Epoch DataLoader::epoch(int64_t e) const {
  auto state = std::make_unique<Epoch::State>();
  state->dataset = dataset_;
  state->order = order(e);
  state->options = options_;
  state->epoch = e;
  state->batches = batches_per_epoch();
  return Epoch(std::move(state));
}

}  // namespace nib::data
