// nib's dropout CUDA kernels: the same mask as the CPU reference.
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

#include "kernels/counter_rng.h"
#include "kernels/dropout.h"
#include "tests/cuda/cuda_helpers.h"

using namespace nib;
using namespace nib::kernels;
using nib::testing::DeviceBuffer;
using nib::testing::random_vector;
using nib::testing::edge_sizes;

// ---- Dropout -------------------------------------------------------------------

TEST_CASE("cuda kernel dropout drops exactly the elements the CPU reference drops") {
  for (int64_t n : edge_sizes()) {
    for (float p : {0.0f, 0.1f, 0.5f, 0.9f}) {
      CAPTURE(n);
      CAPTURE(p);
      const size_t un = static_cast<size_t>(n);
      const uint64_t seed = 0x5eed + static_cast<uint64_t>(n);
      std::vector<float> x = random_vector(un, 29), y(un), gy = random_vector(un, 30), gx(un);
      std::vector<uint8_t> mask(un);
      reference::dropout_forward(n, x.data(), p, seed, mask.data(), y.data());
      reference::dropout_backward(n, gy.data(), mask.data(), p, gx.data());

      DeviceBuffer<float> dx(x), dy(un), dgy(gy), dgx(un);
      DeviceBuffer<uint8_t> dmask(un);
      kernels::cuda::dropout_forward(n, dx.get(), p, seed, dmask.get(), dy.get());
      CHECK(dmask.to_host() == mask);
      NIB_CHECK_CLOSE(dy.to_host(), y, 1e-6);
      kernels::cuda::dropout_backward(n, dgy.get(), dmask.get(), p, dgx.get());
      NIB_CHECK_CLOSE(dgx.to_host(), gx, 1e-6);
    }
  }
  // The mask is the counter hash, not some other random stream: check a few by hand.
  const int64_t n = 1000;
  std::vector<float> ones(n, 1.0f);
  DeviceBuffer<float> dx(ones), dy(n);
  DeviceBuffer<uint8_t> dmask(n);
  kernels::cuda::dropout_forward(n, dx.get(), 0.3f, 42, dmask.get(), dy.get());
  std::vector<uint8_t> mask = dmask.to_host();
  int kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    CHECK(mask[i] == (counter_uniform(42, static_cast<uint64_t>(i)) >= 0.3f ? 1 : 0));
    kept += mask[i];
  }
  CHECK(kept > 600);  // about 700 of 1000 kept
  CHECK(kept < 800);
}
