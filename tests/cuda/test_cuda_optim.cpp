// nib's optimizer CUDA kernels (multi-tensor SGD, Adam, AdamW) against the CPU
// reference.
//
// Every test computes the same thing twice: kernels::reference on host
// vectors and nib's CUDA kernels on device buffers holding the same data,
// then compares (helpers: tests/cuda/cuda_helpers.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/optim.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_positive;
using nib::testing::random_vector;

// ---- Optimizers --------------------------------------------------------------------

namespace {

// Parameters, gradients and two state buffers for tensors of the given sizes,
// on the host and (identical) on the device.
struct OptimFixture {
  std::vector<std::vector<float>> param, grad, state1, state2;
  std::vector<std::unique_ptr<DeviceBuffer<float>>> dparam, dgrad, dstate1, dstate2;

  explicit OptimFixture(const std::vector<int64_t>& sizes) {
    uint64_t seed = 100;
    for (int64_t n : sizes) {
      const size_t un = static_cast<size_t>(n);
      param.push_back(random_vector(un, seed++));
      grad.push_back(random_vector(un, seed++));
      state1.push_back(random_vector(un, seed++, 0.1f));
      state2.push_back(random_positive(un, seed++, 0.0f, 0.01f));
      dparam.push_back(std::make_unique<DeviceBuffer<float>>(param.back()));
      dgrad.push_back(std::make_unique<DeviceBuffer<float>>(grad.back()));
      dstate1.push_back(std::make_unique<DeviceBuffer<float>>(state1.back()));
      dstate2.push_back(std::make_unique<DeviceBuffer<float>>(state2.back()));
    }
  }
  std::vector<ParamSlot> host_slots() {
    std::vector<ParamSlot> slots;
    for (size_t i = 0; i < param.size(); ++i)
      slots.push_back({param[i].data(), grad[i].data(), state1[i].data(), state2[i].data(),
                       static_cast<int64_t>(param[i].size())});
    return slots;
  }
  std::vector<ParamSlot> device_slots() {
    std::vector<ParamSlot> slots;
    for (size_t i = 0; i < param.size(); ++i)
      slots.push_back({dparam[i]->get(), dgrad[i]->get(), dstate1[i]->get(), dstate2[i]->get(),
                       static_cast<int64_t>(param[i].size())});
    return slots;
  }
  // Bit for bit: the CPU and the kernel share their per-element arithmetic
  // (kernels/optim_update.h), fused multiply-adds included.
  void check_equal() {
    for (size_t i = 0; i < param.size(); ++i) {
      CAPTURE(i);
      CHECK(dparam[i]->to_host() == param[i]);
      CHECK(dstate1[i]->to_host() == state1[i]);
      CHECK(dstate2[i]->to_host() == state2[i]);
    }
  }
};

// Many small tensors (more than one launch's worth) and a few odd large ones.
std::vector<int64_t> optim_sizes() {
  std::vector<int64_t> sizes = {1, 7, 33, 1000003, 0};
  for (int i = 0; i < 70; ++i) sizes.push_back(1 + (i * 37) % 300);
  return sizes;
}

}  // namespace

TEST_CASE("cuda kernel SGD step matches the reference over many tensors, for three steps") {
  for (float momentum : {0.0f, 0.9f}) {
    for (bool nesterov : {false, true}) {
      if (nesterov && momentum == 0.0f) continue;
      CAPTURE(momentum);
      CAPTURE(nesterov);
      OptimFixture f(optim_sizes());
      for (int step = 0; step < 3; ++step) {
        SgdParams o;
        o.lr = 0.05f, o.momentum = momentum, o.dampening = nesterov ? 0.0f : 0.1f, o.weight_decay = 1e-2f;
        o.nesterov = nesterov;
        o.first_step = step == 0;
        reference::sgd_step(f.host_slots(), o);
        kernels::cuda::sgd_step(f.device_slots(), o);
      }
      f.check_equal();
    }
  }
}

TEST_CASE("cuda kernel Adam and AdamW steps match the reference over many tensors, for three steps") {
  for (bool decoupled : {false, true}) {
    CAPTURE(decoupled);
    OptimFixture f(optim_sizes());
    for (int64_t step = 1; step <= 3; ++step) {
      AdamParams o;
      o.lr = 1e-2f, o.weight_decay = 0.05f, o.decoupled = decoupled, o.step = step;
      reference::adam_step(f.host_slots(), o);
      kernels::cuda::adam_step(f.device_slots(), o);
    }
    f.check_equal();
  }
}
