// Pooling, batch norm, log-softmax and cross-entropy against PyTorch's own
// results (tests/fixtures/misc_ops/misc_ops.txt, written by
// tools/fixtures/misc_ops.py, which documents the format and the parameters).
// Both CPU implementations are checked.
#include <fstream>
#include <map>

#include "kernels/registry.h"
#include "tests/helpers.h"

using namespace nib;

namespace {

// Reads every "tensor <name> <f32|i32> <rank> <sizes...>" block of the fixture.
std::map<std::string, Tensor> read_fixture(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open the fixture " << path << " (make it with tools/fixtures/misc_ops.py)");
  std::map<std::string, Tensor> tensors;
  std::string word;
  while (in >> word) {
    if (word[0] == '#') {
      std::getline(in, word);  // the rest of a comment line
      continue;
    }
    REQUIRE_MESSAGE(word == "tensor", path << ": expected 'tensor', got '" << word << "'");
    std::string name, dtype;
    int64_t rank = 0;
    in >> name >> dtype >> rank;
    std::vector<int64_t> dims(static_cast<size_t>(rank));
    for (auto& d : dims) in >> d;
    Shape shape(dims);
    REQUIRE_MESSAGE((dtype == "f32" || dtype == "i32"), path << ": " << name << " has unknown dtype " << dtype);
    Tensor t = Tensor::empty(shape, kCPU, dtype == "f32" ? DType::F32 : DType::I32);
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (dtype == "f32")
        in >> t.data()[i];
      else
        in >> t.data_as<int32_t>()[i];
    }
    REQUIRE_MESSAGE(in, path << ": truncated values of " << name);
    tensors[name] = t;
  }
  return tensors;
}

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> tensors = read_fixture(NIB_FIXTURE_DIR "/misc_ops/misc_ops.txt");
  return tensors;
}

Tensor get(const std::string& name) {
  auto it = fixture().find(name);
  REQUIRE_MESSAGE(it != fixture().end(), "the fixture has no tensor " << name);
  return it->second;
}

Tensor leaf(const std::string& name) { return get(name).clone().set_requires_grad(true); }

ops::Pool2dOptions kernel3_stride2_pad1() {
  ops::Pool2dOptions o;
  o.kernel_h = o.kernel_w = 3;
  o.stride_h = o.stride_w = 2;
  o.padding = ops::Padding2d::same(1);
  return o;
}

constexpr double kTolerance = 1e-5;
const char* const kImpls[] = {"reference", "fast"};

}  // namespace

TEST_CASE("max_pool2d matches PyTorch (kernel 3, stride 2, padding 1)") {
  for (const char* impl : kImpls) {
    CAPTURE(impl);
    kernels::Use use("pool", impl);
    Tensor x = leaf("max_pool.x");
    Tensor y = ops::max_pool2d(x, kernel3_stride2_pad1());
    y.backward(get("max_pool.gy"));
    NIB_CHECK_CLOSE(y, get("max_pool.y"), kTolerance);
    NIB_CHECK_CLOSE(x.grad(), get("max_pool.gx"), kTolerance);
  }
}

TEST_CASE("avg_pool2d matches PyTorch with count_include_pad false and true") {
  for (const char* impl : kImpls) {
    for (bool include_pad : {false, true}) {
      CAPTURE(impl);
      CAPTURE(include_pad);
      kernels::Use use("pool", impl);
      const std::string suffix = include_pad ? "_incl" : "_excl";
      Tensor x = leaf("avg_pool.x");
      Tensor y = ops::avg_pool2d(x, kernel3_stride2_pad1(), include_pad);
      y.backward(get("avg_pool.gy" + suffix));
      NIB_CHECK_CLOSE(y, get("avg_pool.y" + suffix), kTolerance);
      NIB_CHECK_CLOSE(x.grad(), get("avg_pool.gx" + suffix), kTolerance);
    }
  }
}

TEST_CASE("batch_norm matches PyTorch: a training step, the running statistics after it, then evaluation") {
  for (const char* impl : kImpls) {
    for (std::string bn : {"bn2d", "bn1d"}) {
      CAPTURE(impl);
      CAPTURE(bn);
      kernels::Use use("batchnorm", impl);
      Tensor running_mean = get(bn + ".running_mean").clone(), running_var = get(bn + ".running_var").clone();
      Tensor x = leaf(bn + ".x"), gamma = leaf(bn + ".gamma"), beta = leaf(bn + ".beta");
      Tensor y = ops::batch_norm(x, gamma, beta, running_mean, running_var, true, 0.1f, 1e-5f);
      y.backward(get(bn + ".gy"));
      NIB_CHECK_CLOSE(y, get(bn + ".y"), kTolerance);
      NIB_CHECK_CLOSE(x.grad(), get(bn + ".gx"), 1e-4);
      NIB_CHECK_CLOSE(gamma.grad(), get(bn + ".ggamma"), 1e-4);
      NIB_CHECK_CLOSE(beta.grad(), get(bn + ".gbeta"), kTolerance);
      NIB_CHECK_CLOSE(running_mean, get(bn + ".running_mean_after"), kTolerance);
      NIB_CHECK_CLOSE(running_var, get(bn + ".running_var_after"), kTolerance);
      if (bn != "bn2d") continue;

      // Evaluation with the statistics nib itself just updated.
      x = leaf(bn + ".x"), gamma = leaf(bn + ".gamma"), beta = leaf(bn + ".beta");
      y = ops::batch_norm(x, gamma, beta, running_mean, running_var, false, 0.1f, 1e-5f);
      y.backward(get("bn2d.eval_gy"));
      NIB_CHECK_CLOSE(y, get("bn2d.eval_y"), kTolerance);
      NIB_CHECK_CLOSE(x.grad(), get("bn2d.eval_gx"), kTolerance);
      NIB_CHECK_CLOSE(gamma.grad(), get("bn2d.eval_ggamma"), 1e-4);
      NIB_CHECK_CLOSE(beta.grad(), get("bn2d.eval_gbeta"), kTolerance);
    }
  }
}

TEST_CASE("log_softmax matches PyTorch") {
  for (const char* impl : kImpls) {
    CAPTURE(impl);
    kernels::Use use("softmax", impl);
    Tensor x = leaf("log_softmax.x");
    Tensor y = ops::log_softmax(x);
    y.backward(get("log_softmax.gy"));
    NIB_CHECK_CLOSE(y, get("log_softmax.y"), kTolerance);
    NIB_CHECK_CLOSE(x.grad(), get("log_softmax.gx"), kTolerance);
  }
}

TEST_CASE("cross_entropy matches PyTorch, with label_smoothing 0.1 and 0") {
  for (const char* impl : kImpls) {
    for (float smoothing : {0.1f, 0.0f}) {
      CAPTURE(impl);
      CAPTURE(smoothing);
      kernels::Use use("softmax", impl);
      const std::string suffix = smoothing > 0.0f ? "_ls01" : "_ls0";
      Tensor logits = leaf("cross_entropy.logits");
      Tensor loss = ops::cross_entropy(logits, get("cross_entropy.labels"), smoothing);
      loss.backward();
      CHECK(loss.item() == doctest::Approx(get("cross_entropy.loss" + suffix).item()).epsilon(1e-6));
      NIB_CHECK_CLOSE(logits.grad(), get("cross_entropy.gx" + suffix), kTolerance);
    }
  }
}

TEST_CASE("gelu matches PyTorch's F.gelu, forward and backward") {
  for (const char* impl : kImpls) {
    CAPTURE(impl);
    kernels::Use use("gelu", impl);
    Tensor x = leaf("gelu.x");
    Tensor y = ops::gelu(x);
    y.backward(get("gelu.gy"));
    NIB_CHECK_CLOSE(y, get("gelu.y"), kTolerance);
    NIB_CHECK_CLOSE(x.grad(), get("gelu.gx"), kTolerance);
  }
}
