// kernels/registry.h: how a --kernels / NIB_KERNELS spec picks implementations.
#include <doctest/doctest.h>

#include "kernels/registry.h"

using namespace nib;

namespace {

const std::vector<std::string> kCpu{"reference", "fast"};
const std::vector<std::string> kCuda{"custom", "library"};

// Puts the selection back to the defaults after a test changed it.
struct RestoreDefaults {
  ~RestoreDefaults() {
    kernels::configure("fast,custom,conv2d=fast,conv2d=custom,gemm=fast,gemm=custom");
    kernels::set_allow_tf32(false);
  }
};

}  // namespace

TEST_CASE("kernel selection: defaults, whole-device and per-family specs") {
  RestoreDefaults restore;
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");
  CHECK(kCuda[kernels::choose("conv2d", DeviceType::CUDA, kCuda)] == "custom");

  kernels::configure("library");
  CHECK(kCuda[kernels::choose("conv2d", DeviceType::CUDA, kCuda)] == "library");
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");  // a CUDA name leaves the CPU alone

  kernels::configure("custom,gemm=library,conv2d=reference");
  CHECK(kCuda[kernels::choose("gemm", DeviceType::CUDA, kCuda)] == "library");
  CHECK(kCuda[kernels::choose("conv2d", DeviceType::CUDA, kCuda)] == "custom");
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "reference");
  CHECK(kCpu[kernels::choose("gemm", DeviceType::CPU, kCpu)] == "fast");
  CHECK(kernels::describe().find("gemm=library") != std::string::npos);

  {
    kernels::Use use("gemm", "custom");  // a scoped override beats the configured choice
    CHECK(kCuda[kernels::choose("gemm", DeviceType::CUDA, kCuda)] == "custom");
  }
  CHECK(kCuda[kernels::choose("gemm", DeviceType::CUDA, kCuda)] == "library");
}

TEST_CASE("kernel selection: tf32 is opt-in and named in the description") {
  RestoreDefaults restore;
  CHECK_FALSE(kernels::allow_tf32());
  kernels::configure("custom,tf32");
  CHECK(kernels::allow_tf32());
  CHECK(kernels::describe().find("tf32 allowed") != std::string::npos);
}

TEST_CASE("kernel selection: a bad spec is rejected whole, naming the item") {
  RestoreDefaults restore;
  try {
    kernels::configure("conv2d=library,gemm=fastest");
    FAIL("an unknown implementation was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("gemm=fastest") != std::string::npos);
  }
  CHECK(kCuda[kernels::choose("conv2d", DeviceType::CUDA, kCuda)] == "custom");  // nothing was applied
}
