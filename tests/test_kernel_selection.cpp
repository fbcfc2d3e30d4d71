// kernels/registry.h: how a --kernels / NIB_KERNELS spec picks implementations,
// that a choice which cannot be honoured is an error, and the trace.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "kernels/registry.h"
#include "ops/ops.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

using namespace nib;
using nib::testing::error_of;

namespace {

const std::vector<std::string> kCpu{"reference", "fast"};
const std::vector<std::string> kCuda{"cuda", "cudnn"};

// Puts the selection back to the defaults after a test changed it.
struct RestoreDefaults {
  ~RestoreDefaults() {
    kernels::reset();
    kernels::set_trace(false);
  }
};

// What `body` writes to stderr (the trace goes there).
template <class Body>
std::string stderr_of(const Body& body) {
  nib::testing::TempDir dir;
  const std::string path = dir.path() + "/stderr.txt";
  std::fflush(stderr);
  const int saved = dup(2);
  FILE* file = std::fopen(path.c_str(), "w");
  dup2(fileno(file), 2);
  body();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::fclose(file);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Tensor small_conv(const Tensor& x) {
  Tensor w = Tensor::ones({2, 1, 3, 3});
  return ops::conv2d(x, w, Tensor(), {});
}

}  // namespace

TEST_CASE("kernel selection: defaults, whole-device and per-family specs") {
  RestoreDefaults restore;
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");
  CHECK(kCuda[kernels::choose("conv2d", DeviceType::CUDA, kCuda)] == "cuda");

  kernels::configure("reference");
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "reference");
  CHECK(kCuda[kernels::choose("conv2d", DeviceType::CUDA, kCuda)] == "cuda");  // a CPU name leaves CUDA alone

  kernels::configure("fast,conv2d=reference");
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "reference");
  CHECK(kCpu[kernels::choose("gemm", DeviceType::CPU, kCpu)] == "fast");
  CHECK(kernels::describe().find("conv2d=reference") != std::string::npos);

  {
    kernels::Use use("conv2d", "fast");  // a scoped override beats the configured choice
    CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");
  }
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "reference");

  kernels::reset();
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");
  CHECK(kernels::describe().find("conv2d=") == std::string::npos);
}

TEST_CASE("kernel selection: an op runs what was chosen, and follows every change") {
  RestoreDefaults restore;
  Tensor x = Tensor::ones({1, 1, 5, 5});
  small_conv(x);
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "fast");
  kernels::configure("conv2d=reference");
  small_conv(x);
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "reference");
  {
    kernels::Use use("conv2d", "fast");
    small_conv(x);
    CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "fast");
  }
  small_conv(x);
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "reference");
  kernels::reset();
  small_conv(x);
  CHECK(kernels::last_chosen("conv2d", DeviceType::CPU) == "fast");
}

TEST_CASE("kernel selection: tf32 is opt-in and named in the description") {
  RestoreDefaults restore;
  CHECK_FALSE(kernels::allow_tf32());
  kernels::configure("fast,tf32");
  CHECK(kernels::allow_tf32());
  CHECK(kernels::describe().find("tf32 allowed") != std::string::npos);
  kernels::reset();
  CHECK_FALSE(kernels::allow_tf32());
}

TEST_CASE("kernel selection: a bad spec is rejected whole, naming the item") {
  RestoreDefaults restore;
  const std::string error = error_of([] { kernels::configure("conv2d=reference,gemm=fastest"); });
  CHECK(error.find("gemm=fastest") != std::string::npos);
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");  // nothing was applied
}

TEST_CASE("kernel selection: an unknown family is an error that lists the families") {
  RestoreDefaults restore;
  const std::string error = error_of([] { kernels::configure("convd=reference"); });
  CHECK(error.find("unknown op family 'convd'") != std::string::npos);
  CHECK(error.find("conv2d") != std::string::npos);
  CHECK(error.find("gemm") != std::string::npos);
}

TEST_CASE("kernel selection: an implementation the family does not have is an error that lists what it has") {
  RestoreDefaults restore;
  // gemm_* names belong to gemm alone (and exist only in CUDA builds).
  const std::string conv = error_of([] { kernels::configure("conv2d=gemm_naive"); });
  CHECK(conv.find("conv2d") != std::string::npos);
  CHECK(conv.find("has no implementation 'gemm_naive'") != std::string::npos);
  CHECK(conv.find("reference") != std::string::npos);
  // The activations have no "fast" CPU version: asking for one is refused, not quietly the reference.
  const std::string activation = error_of([] { kernels::Use use("activation", "fast"); });
  CHECK(activation.find("op family 'activation' has no implementation 'fast'") != std::string::npos);
  // "it has: reference" in a CPU-only build, "it has: cuda, reference" where CUDA is built in.
  const std::string listed = activation.substr(activation.find("it has: "));
  CHECK(listed.find("reference") != std::string::npos);
  CHECK(listed.find("fast") == std::string::npos);
  // A name no family has, even as a whole-device default.
  CHECK(error_of([] { kernels::configure("fastest"); }).find("no op family has an implementation 'fastest'") !=
        std::string::npos);
}

TEST_CASE("kernel selection: several whole-device defaults, the first a family has wins") {
  RestoreDefaults restore;
  // Like "cudnn,cublas" on a GPU: conv2d has "reference", the family below only "fast".
  kernels::configure("reference,fast");
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "reference");
  const std::vector<std::string> fast_only{"fast"};
  CHECK(fast_only[kernels::choose("conv2d", DeviceType::CPU, fast_only)] == "fast");
  CHECK(kernels::describe().find("cpu: reference,fast") != std::string::npos);
  kernels::configure("fast");  // a later spec's defaults replace the earlier ones
  CHECK(kCpu[kernels::choose("conv2d", DeviceType::CPU, kCpu)] == "fast");
  CHECK(kernels::describe().find("cpu: fast;") != std::string::npos);
}

TEST_CASE("kernel selection: a whole-device default applies to the families that have it") {
  RestoreDefaults restore;
  kernels::configure("fast");  // activation has no fast: it keeps its first CPU implementation
  ops::relu(Tensor::ones({3}));
  CHECK(kernels::last_chosen("activation", DeviceType::CPU) == "reference");
}

TEST_CASE("kernel selection: the trace names each family's implementation and shapes, once per shape") {
  RestoreDefaults restore;
  const std::string trace = stderr_of([] {
    kernels::set_trace(true);
    ops::relu(Tensor::ones({2, 3}));
    ops::relu(Tensor::ones({2, 3}));
    ops::relu(Tensor::ones({4}));
    kernels::set_trace(false);
    ops::relu(Tensor::ones({5}));
  });
  CHECK(trace.find("nib trace: activation on cpu runs reference: forward [2, 3]") != std::string::npos);
  CHECK(trace.find("forward [2, 3]") == trace.rfind("forward [2, 3]"));  // once
  CHECK(trace.find("forward [4]") != std::string::npos);
  CHECK(trace.find("forward [5]") == std::string::npos);  // tracing off again
}
