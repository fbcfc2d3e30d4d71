// The CUDA tests' main: without a usable GPU the binary says why and exits
// 77, which ctest reports as "skipped" (SKIP_RETURN_CODE), not as passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "device/cuda/runtime.h"

int main(int argc, char** argv) {
  if (!nib::cuda::available()) {
    std::printf("nib_cuda_tests: skipped: %s\n", nib::cuda::unavailable_reason().c_str());
    return 77;
  }
  std::printf("nib_cuda_tests: running on %s\n", nib::cuda::device_name().c_str());
#ifdef NIB_CUDA_ON_CPU
  std::printf(
      "nib_cuda_tests: the CUDA kernels run on the CPU (tests/cuda_on_cpu); cuBLAS and cuDNN are not part of this "
      "build, so their tests are reported as skipped\n");
#endif
  doctest::Context context(argc, argv);
  return context.run();
}
