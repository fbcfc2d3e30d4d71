// ops::conv2d against PyTorch: forward outputs and all three gradients for
// the cases in tests/fixtures/conv2d/conv2d.txt (written by
// tools/fixtures/conv2d.py, which also describes the text format).
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "tests/helpers.h"

using namespace nib;

namespace {

struct TorchCase {
  std::string name;
  ops::Conv2dOptions options;
  std::map<std::string, Tensor> tensors;  // x, w, b, gy, y, gx, gw, gb
};

// One "<name> <rank> <dims...> <values...>" line.
std::pair<std::string, Tensor> parse_tensor(const std::string& line) {
  std::istringstream in(line);
  std::string name;
  int64_t rank = 0;
  in >> name >> rank;
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  for (auto& d : dims) in >> d;
  Shape shape(dims);
  std::vector<float> values(static_cast<size_t>(shape.numel()));
  for (auto& v : values) in >> v;
  REQUIRE_MESSAGE(!in.fail(), "fixture tensor '" << name << "' is truncated");
  return {name, Tensor::from_vector(values, shape)};
}

std::vector<TorchCase> load_cases(const std::string& path) {
  std::ifstream file(path);
  REQUIRE_MESSAGE(file.good(), "cannot open " << path << " (regenerate with /usr/bin/python3 tools/fixtures/conv2d.py)");
  std::vector<TorchCase> cases;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("case ", 0) == 0) {
      std::istringstream in(line.substr(5));
      TorchCase c;
      ops::Conv2dOptions& o = c.options;
      in >> c.name >> o.stride_h >> o.stride_w >> o.padding.top >> o.padding.bottom >> o.padding.left >>
          o.padding.right >> o.dilation_h >> o.dilation_w >> o.groups;
      REQUIRE_MESSAGE(!in.fail(), "bad case line: " << line);
      cases.push_back(c);
    } else {
      REQUIRE_MESSAGE(!cases.empty(), "tensor before the first case line");
      cases.back().tensors.insert(parse_tensor(line));
    }
  }
  return cases;
}

}  // namespace

TEST_CASE("conv2d forward and gradients match PyTorch") {
  std::vector<TorchCase> cases = load_cases(std::string(NIB_FIXTURE_DIR) + "/conv2d/conv2d.txt");
  REQUIRE(cases.size() >= 3);
  for (const char* impl : {"reference", "fast"}) {
    kernels::Use use("conv2d", impl);
    for (TorchCase& c : cases) {
      INFO("case " << c.name << ", implementation " << std::string(impl));
      auto& t = c.tensors;
      Tensor x = t.at("x").clone().set_requires_grad(true);
      Tensor w = t.at("w").clone().set_requires_grad(true);
      Tensor b = t.at("b").clone().set_requires_grad(true);
      Tensor y = ops::conv2d(x, w, b, c.options);
      NIB_CHECK_CLOSE(y, t.at("y"), 1e-5);
      y.backward(t.at("gy"));
      NIB_CHECK_CLOSE(x.grad(), t.at("gx"), 1e-5);
      NIB_CHECK_CLOSE(w.grad(), t.at("gw"), 1e-5);
      NIB_CHECK_CLOSE(b.grad(), t.at("gb"), 1e-5);
    }
  }
}
