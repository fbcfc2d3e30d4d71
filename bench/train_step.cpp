// `nib bench train-step` (see train_step.h). Each step is timed in four
// phases so that a slow step says where its time goes; the step time is
// their sum, and the reported rate is batch / median step time.
#include "bench/train_step.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "device/cuda/runtime.h"
#include "device/device.h"
#include "kernels/registry.h"
#include "kernels/runtime_flags.h"
#include "models/basic_cnn.h"
#include "ops/ops.h"
#include "optim/adam.h"
#include "util/args.h"
#include "util/files.h"
#include "util/json.h"

namespace nib::bench {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

TrainStepTiming measure_train_step(int64_t batch, int64_t steps, Device device, bool per_phase, int64_t warmup) {
  NIB_CHECK(batch > 0 && steps > 0 && warmup >= 0, "train step: batch and steps must be positive");
  manual_seed(1);
  auto model = models::basic_cnn(models::BasicCnnConfig{});
  model->to(device);
  model->train();
  optim::Adam adam(model->parameters(), optim::AdamOptions{});
  Generator gen(2);
  Tensor x = Tensor::randn({batch, 1, 28, 28}, gen).to(device);
  Tensor labels = Tensor::empty({batch}, kCPU, DType::I32);
  for (int64_t i = 0; i < batch; ++i) labels.data_as<int32_t>()[i] = static_cast<int32_t>(gen.next_u32() % 10);
  labels = labels.to(device);

  // Phase boundaries: on a GPU the kernels run asynchronously, so the clock
  // is read only after the device has finished.
  using Clock = std::chrono::steady_clock;
  auto now = [&] {
    if (device.is_cuda()) cuda::synchronize();
    return Clock::now();
  };
  auto boundary = [&] { return per_phase ? now() : Clock::time_point{}; };
  auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };

  std::vector<double> forward_s, loss_s, backward_s, step_s, total_s;
  for (int64_t i = 0; i < warmup + steps; ++i) {
    const auto t0 = now();
    Tensor logits = (*model)(x);
    const auto t1 = boundary();
    Tensor loss = ops::cross_entropy(logits, labels);
    const auto t2 = boundary();
    adam.zero_grad();
    loss.backward();
    const auto t3 = boundary();
    adam.step();
    const auto t4 = now();
    if (i < warmup) continue;
    total_s.push_back(seconds(t0, t4));
    if (!per_phase) continue;
    forward_s.push_back(seconds(t0, t1));
    loss_s.push_back(seconds(t1, t2));
    backward_s.push_back(seconds(t2, t3));
    step_s.push_back(seconds(t3, t4));
  }

  TrainStepTiming t;
  t.batch = batch;
  t.steps = steps;
  t.warmup = warmup;
  t.step_ms = median(total_s) * 1e3;
  t.images_per_s = static_cast<double>(batch) / (t.step_ms * 1e-3);
  if (per_phase) {
    t.forward_ms = median(forward_s) * 1e3;
    t.loss_ms = median(loss_s) * 1e3;
    t.backward_ms = median(backward_s) * 1e3;
    t.optimizer_ms = median(step_s) * 1e3;
  }
  return t;
}

int train_step(int argc, char** argv) {
  Args args(argc, argv, 3, {});
  const int64_t batch = args.get_int("batch", 128);
  const int64_t steps = args.get_int("steps", 20);
  const Device device = parse_device(args.get("device", "cpu"));
  const std::string json_path = args.get("json", "");
  kernels::apply_runtime_flags(args);  // --threads, --kernels
  args.finish();
  NIB_CHECK(batch > 0 && steps > 0, "--batch and --steps must be positive");
  require_device(device);

  const std::string load_before = load_average();
  const TrainStepTiming t = measure_train_step(batch, steps, device, /*per_phase=*/true);
  const int threads = omp_get_max_threads();
  std::printf("nib train step: basic CNN, batch %lld, %s, %d threads, kernels: %s\n", static_cast<long long>(batch),
              device.name().c_str(), threads, kernels::describe().c_str());
  std::printf("  median of %lld steps after %lld warm-up: %.2f ms per step, %.0f images/s\n",
              static_cast<long long>(steps), static_cast<long long>(t.warmup), t.step_ms, t.images_per_s);
  std::printf("  forward %.2f ms, loss %.2f ms, backward %.2f ms, adam %.2f ms (medians)\n", t.forward_ms,
              t.loss_ms, t.backward_ms, t.optimizer_ms);

  if (!json_path.empty()) {
    json::Value v = json::Value::object();
    v["framework"] = "nib";
    v["model"] = "basic-cnn (conv5x5 32, pool, conv5x5 64, pool, dense 128, dropout 0.3, dense 10)";
    v["batch"] = batch;
    v["device"] = device.name();
    v["threads"] = threads;
    v["kernels"] = kernels::describe();
    v["steps"] = steps;
    v["warmup"] = t.warmup;
    v["step_ms"] = t.step_ms;
    v["images_per_s"] = t.images_per_s;
    v["forward_ms"] = t.forward_ms;
    v["loss_ms"] = t.loss_ms;
    v["backward_ms"] = t.backward_ms;
    v["optimizer_ms"] = t.optimizer_ms;
    v["cpu"] = cpu_description();
    v["date"] = today();
    v["load_average_before"] = load_before;
    v["load_average_after"] = load_average();
    write_file_atomic(json_path, json::dump(v, 2) + "\n");
  }
  return 0;
}

}  // namespace nib::bench
