// The whole training step on the GPU against the same step on the CPU: the
// basic CNN (models/basic_cnn.h, what `nib train` trains by default), built
// twice from the same seed, one copy moved to the GPU, fed the same fixed
// batch. Two steps of forward, cross-entropy, backward and an optimizer
// update (SGD with momentum and weight decay, then Adam), first with nib's
// own kernels, then with the library ones (cuBLAS, cuDNN where built).
// After each step the loss, every parameter's gradient and every updated
// parameter must match the CPU.
//
// The per-kernel tests (test_cuda_gemm_conv.cpp, test_cuda_<family>.cpp)
// check each op alone; this one checks that they are wired together right:
// autograd on CUDA tensors, the parameters the optimizer sees after
// Module::to, dropout masks (a counter-based hash of (seed, index), the same
// on both devices), the fused optimizer kernels, and which implementation
// the registry actually picked.
//
// Tolerance: 1e-4 relative to the largest magnitude of each tensor
// (tests/helpers.h). Summation order differs between devices, so results
// differ by ~1e-6; the one way a correct GPU can still fail is an input
// that sits within rounding of a decision (a ReLU input of ~1e-7, a 2x2
// max-pool window with two values equal to ~1e-7): the gradient then flows
// through a different element on each device. With this seed and batch that
// has odds of a few percent; if only conv gradients fail by ~1e-2, try
// another seed before suspecting a kernel.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/registry.h"
#include "models/basic_cnn.h"
#include "ops/ops.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "tensor/random.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using nib::testing::ScopedAllowTf32;
using nib::testing::UseEverywhere;

namespace {

constexpr uint64_t kModelSeed = 1;
constexpr int64_t kBatch = 8;
constexpr int kSteps = 2;  // the second step sees momentum / Adam moments from the first
constexpr double kTolerance = 1e-4;

// A fixed batch of MNIST-shaped inputs and labels, on the CPU.
struct Batch {
  Tensor x, labels;
};

Batch fixed_batch() {
  Generator gen(2);
  Batch b;
  b.x = Tensor::randn({kBatch, 1, 28, 28}, gen);
  b.labels = Tensor::empty({kBatch}, kCPU, DType::I32);
  for (int64_t i = 0; i < kBatch; ++i) b.labels.data_as<int32_t>()[i] = static_cast<int32_t>(gen.next_u32() % 10);
  return b;
}

using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

std::unique_ptr<optim::Optimizer> make_sgd(std::vector<Tensor> params) {
  optim::SgdOptions o;
  o.lr = 0.1f;
  o.momentum = 0.9f;
  o.weight_decay = 1e-4f;
  return std::make_unique<optim::SGD>(std::move(params), o);
}

std::unique_ptr<optim::Optimizer> make_adam(std::vector<Tensor> params) {
  return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{});
}

// What one training step produced, copied to the host.
struct StepResult {
  float loss = 0.0f;
  std::vector<std::pair<std::string, std::vector<float>>> grads;   // before the update
  std::vector<std::pair<std::string, std::vector<float>>> params;  // after the update
};

// kSteps training steps of a freshly built basic CNN on `device`.
std::vector<StepResult> train_steps(Device device, const OptimizerFactory& make_optimizer, const Batch& batch) {
  manual_seed(kModelSeed);  // the same initial weights and dropout seeds on every call
  auto model = models::basic_cnn(models::BasicCnnConfig{});
  model->to(device);
  model->train();
  std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(model->parameters());
  const Tensor x = batch.x.to(device), labels = batch.labels.to(device);

  std::vector<StepResult> results;
  for (int step = 0; step < kSteps; ++step) {
    Tensor loss = ops::cross_entropy((*model)(x), labels);
    optimizer->zero_grad();
    loss.backward();
    StepResult r;
    r.loss = loss.item();
    for (const auto& param : model->named_parameters()) {
      const std::string& name = param.first;
      REQUIRE_MESSAGE(param.second.grad().defined(), name << " received no gradient on " << device.name());
      r.grads.emplace_back(name, param.second.grad().to_vector());
    }
    optimizer->step();
    for (const auto& param : model->named_parameters()) r.params.emplace_back(param.first, param.second.to_vector());
    results.push_back(std::move(r));
  }
  return results;
}

void check_same(const std::vector<StepResult>& gpu, const std::vector<StepResult>& cpu) {
  REQUIRE(gpu.size() == cpu.size());
  for (size_t s = 0; s < cpu.size(); ++s) {
    INFO("step " << s + 1);
    NIB_CHECK_CLOSE(std::vector<float>{gpu[s].loss}, std::vector<float>{cpu[s].loss}, kTolerance);
    REQUIRE(gpu[s].grads.size() == cpu[s].grads.size());
    for (size_t i = 0; i < cpu[s].grads.size(); ++i) {
      INFO("gradient of " << cpu[s].grads[i].first);
      CHECK(gpu[s].grads[i].first == cpu[s].grads[i].first);
      NIB_CHECK_CLOSE(gpu[s].grads[i].second, cpu[s].grads[i].second, kTolerance);
    }
    REQUIRE(gpu[s].params.size() == cpu[s].params.size());
    for (size_t i = 0; i < cpu[s].params.size(); ++i) {
      INFO("updated " << cpu[s].params[i].first);
      NIB_CHECK_CLOSE(gpu[s].params[i].second, cpu[s].params[i].second, kTolerance);
    }
  }
}

void check_train_step(const std::string& impl) {
  ScopedAllowTf32 fp32(false);  // TF32 (~1e-3) would not meet 1e-4
  const Batch batch = fixed_batch();
  const std::vector<std::pair<const char*, OptimizerFactory>> optimizers = {{"SGD", make_sgd}, {"Adam", make_adam}};
  for (const auto& optimizer : optimizers) {
    const char* name = optimizer.first;
    INFO(std::string(name) << " with " << impl << " kernels on the GPU");
    const std::vector<StepResult> cpu = train_steps(kCPU, optimizer.second, batch);
    std::vector<StepResult> gpu;
    {
      UseEverywhere use(impl);
      gpu = train_steps(kCUDA, optimizer.second, batch);
    }
    // The registry really ran what was asked for (where it exists).
#ifdef NIB_CUBLAS
    CHECK(kernels::last_chosen("gemm", DeviceType::CUDA) == (impl == "cuda" ? "cuda" : "cublas"));
#endif
#ifdef NIB_CUDNN
    CHECK(kernels::last_chosen("conv2d", DeviceType::CUDA) == (impl == "cuda" ? "cuda" : "cudnn"));
#endif
    check_same(gpu, cpu);
  }
}

}  // namespace

TEST_CASE("cuda train step: the basic CNN with nib's kernels matches the CPU (SGD and Adam)") {
  check_train_step("cuda");
}

TEST_CASE("cuda train step: the basic CNN with library kernels matches the CPU (SGD and Adam)" NIB_NEEDS_GPU_LIBRARIES) {
  check_train_step(nib::testing::kLibraries);
}
