#include "bench/cuda/timing.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace nib::bench::gpu {

namespace {

// splitmix64: a fast, well-mixed 64-bit generator, enough for test data.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Owns a CUDA event; destroyed even when a timed call throws.
class Event {
 public:
  Event() { NIB_CUDA_CHECK(cudaEventCreate(&event_)); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& other) noexcept : event_(other.event_) { other.event_ = nullptr; }
  void record() { NIB_CUDA_CHECK(cudaEventRecord(event_, cuda::stream())); }
  operator cudaEvent_t() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

double elapsed_ms(const Event& start, const Event& stop) {
  float ms = 0.0f;
  NIB_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  return ms;
}

}  // namespace

void fill_uniform(DeviceBuffer& buffer, uint64_t seed, float lo, float hi) {
  std::vector<float> host(buffer.count());
  uint64_t state = seed;
  const float scale = (hi - lo) / 16777216.0f;  // 2^24 steps: every value exact in float
  for (float& v : host) v = lo + scale * static_cast<float>(splitmix64(state) >> 40);
  buffer.upload(host);
}

void fill_value(DeviceBuffer& buffer, float value) { buffer.upload(std::vector<float>(buffer.count(), value)); }

void fill_labels(DeviceArray<int32_t>& labels, uint64_t seed, int32_t bound) {
  std::vector<int32_t> host(labels.count());
  uint64_t state = seed;
  for (int32_t& v : host) v = static_cast<int32_t>(splitmix64(state) % static_cast<uint64_t>(bound));
  labels.upload(host);
}

Timing time_gpu(const std::function<void()>& call, const TimingOptions& options) {
  call();  // warm-up, untimed
  Event start, stop;
  start.record();
  call();
  stop.record();
  NIB_CUDA_CHECK(cudaEventSynchronize(stop));
  const double once_ms = std::max(elapsed_ms(start, stop), 1e-4);

  Timing t;
  t.calls_per_sample = static_cast<int>(std::clamp(options.min_sample_ms / once_ms, 1.0, 1000.0));
  const double sample_ms = once_ms * t.calls_per_sample;
  // At least 3 samples (a median of fewer means little), at most `repeats`,
  // and no more than the budget allows.
  const int samples =
      std::clamp(static_cast<int>(options.budget_ms / sample_ms), std::min(3, options.repeats), options.repeats);

  std::vector<Event> marks(samples + 1);  // sample i runs between marks[i] and marks[i + 1]
  marks[0].record();
  for (int i = 0; i < samples; ++i) {
    for (int c = 0; c < t.calls_per_sample; ++c) call();
    marks[i + 1].record();
  }
  NIB_CUDA_CHECK(cudaEventSynchronize(marks.back()));
  std::vector<double> per_call(samples);
  for (int i = 0; i < samples; ++i) per_call[i] = elapsed_ms(marks[i], marks[i + 1]) / t.calls_per_sample;
  std::sort(per_call.begin(), per_call.end());
  t.samples = samples;
  t.median_ms = samples % 2 ? per_call[samples / 2] : 0.5 * (per_call[samples / 2 - 1] + per_call[samples / 2]);
  return t;
}

double relative_difference(const std::vector<float>& ours, const std::vector<float>& theirs) {
  if (ours.size() != theirs.size()) return INFINITY;
  double scale = 1.0, worst = 0.0;
  for (size_t i = 0; i < ours.size(); ++i) {
    scale = std::max(scale, std::fabs(static_cast<double>(theirs[i])));
    const double d = std::fabs(static_cast<double>(ours[i]) - theirs[i]);
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst / scale;
}

}  // namespace nib::bench::gpu
