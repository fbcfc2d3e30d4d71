// Loading weights into modules by name: in place, with dtype conversion, with
// one error listing every tensor that does not fit; and weights written by
// PyTorch (tools/fixtures/safetensors_interop.py) loading into nib.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "formats/safetensors.h"
#include "layers/layers.h"
#include "layers/state_dict.h"
#include "tensor/convert.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

using namespace nib;
using nib::testing::error_of;
using nib::testing::random_tensor;
using nib::testing::TempDir;

namespace {

// nn.Sequential(Conv2d(1, 4, 3), BatchNorm2d(4), ReLU(), Flatten(), Linear(64, out)), as in the fixture.
std::shared_ptr<Sequential> small_cnn(int64_t classes = 3, int64_t channels = 4) {
  auto model = std::make_shared<Sequential>();
  model->add(std::make_shared<Conv2d>(1, channels, 3));
  model->add(std::make_shared<BatchNorm2d>(channels));
  model->add(std::make_shared<ReLU>());
  model->add(std::make_shared<Flatten>());
  model->add(std::make_shared<Linear>(channels * 16, classes));
  return model;
}

bool equal_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && to_f32(a).to_vector() == to_f32(b).to_vector();
}

}  // namespace

TEST_CASE("state_dict: loading copies into the module's own tensors, in place") {
  auto model = small_cnn();
  Linear& fc = static_cast<Linear&>((*model)[4]);
  Tensor fc_weight = fc.weight;
  float* fc_data = fc.weight.data();

  NamedTensors values;
  for (const auto& [name, t] : model->state_dict())
    values.emplace_back(name, t.dtype() == DType::F32 ? random_tensor(t.shape(), name.size())
                                                      : to_dtype(Tensor::full(t.shape(), 5.0f), t.dtype()));
  LoadReport report = load_state_dict(*model, values);
  CHECK(report.missing.empty());
  CHECK(report.unexpected.empty());

  NamedTensors loaded = model->state_dict();
  for (size_t i = 0; i < values.size(); ++i) {
    INFO(values[i].first);
    CHECK(equal_values(loaded[i].second, values[i].second));
    CHECK(loaded[i].second.raw_data() != values[i].second.raw_data());  // copied, not shared
  }
  CHECK(fc.weight.impl() == fc_weight.impl());  // the layer's handle is still the model's tensor
  CHECK(fc.weight.data() == fc_data);
  CHECK(fc.weight.requires_grad());
  CHECK(static_cast<BatchNorm2d&>((*model)[1]).num_batches_tracked.data_as<int64_t>()[0] == 5);
}

TEST_CASE("state_dict: one error names every tensor that does not fit, and nothing is loaded") {
  auto model = small_cnn();
  auto other = small_cnn(/*classes=*/5, /*channels=*/8);  // every shape differs but BatchNorm's counter
  NamedTensors values = other->state_dict();
  values.erase(values.begin() + 1);                      // drop "0.bias"
  values.emplace_back("head.weight", Tensor::ones({2}));  // and add a stranger
  NamedTensors before;
  for (const auto& [name, t] : model->state_dict()) before.emplace_back(name, t.clone());

  std::string message = error_of([&] { load_state_dict(*model, values); });
  INFO(message);
  CHECK(message.find("load_state_dict: 9 tensors do not fit the model: ") == 0);
  CHECK(message.find('\n') == std::string::npos);  // one line, the first six problems, then a count
  CHECK(message.find("0.weight: shape [8, 1, 3, 3] given, [4, 1, 3, 3] in the model; ") != std::string::npos);
  CHECK(message.find("0.bias: missing; ") != std::string::npos);
  for (const char* name : {"1.weight", "1.bias", "1.running_mean", "1.running_var"})
    CHECK(message.find(str(name, ": shape [8] given, [4] in the model")) != std::string::npos);
  CHECK(message.find("; and 3 more") != std::string::npos);  // 4.weight, 4.bias, head.weight
  CHECK(message.find("num_batches_tracked") == std::string::npos);  // it fits

  NamedTensors after = model->state_dict();
  for (size_t i = 0; i < before.size(); ++i) CHECK(equal_values(after[i].second, before[i].second));
}

TEST_CASE("state_dict: non-strict loading reports missing and unexpected names but still rejects shapes") {
  auto model = small_cnn();
  NamedTensors values = {{"4.weight", Tensor::full({3, 64}, 0.5f)}, {"extra", Tensor::ones({1})}};
  LoadReport report = load_state_dict(*model, values, /*strict=*/false);
  CHECK(report.unexpected == std::vector<std::string>{"extra"});
  CHECK(report.missing.size() == 7);  // all but 4.weight, and num_batches_tracked (optional, as in PyTorch)
  CHECK(static_cast<Linear&>((*model)[4]).weight.to_vector()[7] == 0.5f);

  NamedTensors wrong = {{"4.bias", Tensor::ones({4})}};
  CHECK_THROWS_WITH_AS(load_state_dict(*model, wrong, false),
                       "load_state_dict: 1 tensor does not fit the model: 4.bias: shape [4] given, [3] in the model",
                       Error);
  NamedTensors twice = {{"4.bias", Tensor::ones({3})}, {"4.bias", Tensor::ones({3})}};
  CHECK_THROWS_WITH_AS(load_state_dict(*model, twice, false), doctest::Contains("4.bias: given twice"), Error);
}

TEST_CASE("state_dict: values of other dtypes are converted to the model's") {
  auto model = small_cnn();
  NamedTensors values;
  for (const auto& [name, t] : model->state_dict()) {
    Tensor v = t.dtype() == DType::F32 ? random_tensor(t.shape(), 3) : Tensor::full(t.shape(), 7.0f);
    DType stored = name.find("running") != std::string::npos ? DType::F64
                   : name.find("num_batches") != std::string::npos ? DType::I32
                                                                   : DType::F16;
    values.emplace_back(name, to_dtype(v, stored));
  }
  load_state_dict(*model, values);
  for (const auto& [binding_name, t] : model->state_dict()) {
    const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in INFO
    INFO(name);
    CHECK(t.dtype() == (name.find("num_batches") != std::string::npos ? DType::I64 : DType::F32));
  }
  auto& bn = static_cast<BatchNorm2d&>((*model)[1]);
  CHECK(bn.num_batches_tracked.data_as<int64_t>()[0] == 7);
  CHECK(bn.running_mean.to_vector() == to_f32(random_tensor({4}, 3)).to_vector());  // F64 holds F32 exactly
  float half_rounded = half_to_float(float_to_half(random_tensor({4, 1, 3, 3}, 3).to_vector()[5]));
  CHECK(static_cast<Conv2d&>((*model)[0]).weight.to_vector()[5] == half_rounded);
}

TEST_CASE("state_dict: save_module and load_module round-trip, and errors name the file") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  auto trained = small_cnn();
  for (auto& [name, t] : trained->state_dict())
    if (t.dtype() == DType::F32) load_state_dict(*trained, {{name, random_tensor(t.shape(), 11)}}, false);
  save_module(*trained, path, {{"arch", "small_cnn"}});

  auto fresh = small_cnn();
  std::map<std::string, std::string> metadata = load_module(*fresh, path);
  CHECK(metadata.at("arch") == "small_cnn");
  NamedTensors a = trained->state_dict(), b = fresh->state_dict();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(equal_values(a[i].second, b[i].second));

  auto wider = small_cnn(3, 6);
  std::string message = error_of([&] { load_module(*wider, path); });
  CHECK(message.find(path + ": load_state_dict: ") == 0);
  CHECK(message.find("0.weight: shape [4, 1, 3, 3] given, [6, 1, 3, 3] in the model") != std::string::npos);
}

TEST_CASE("state_dict: select_prefix takes one submodule's entries") {
  auto model = small_cnn();
  NamedTensors bn = select_prefix(model->state_dict(), "1.");
  REQUIRE(bn.size() == 5);
  CHECK(bn[0].first == "weight");
  CHECK(bn[4].first == "num_batches_tracked");
  BatchNorm2d target(4);
  load_state_dict(target, bn);
  CHECK(select_prefix(model->state_dict(), "9.").empty());
}

// ---- Interop with PyTorch ------------------------------------------------------

namespace {

struct Expected {
  Shape shape;
  double sum, abs_sum, first;
};

// tests/fixtures/interop/small_model_expected.txt: "name shape sum abs_sum first" per line.
std::map<std::string, Expected> read_expected(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  std::map<std::string, Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, shape_text;
    Expected e;
    fields >> name >> shape_text >> e.sum >> e.abs_sum >> e.first;
    std::vector<int64_t> dims;
    if (shape_text != "scalar") {
      std::istringstream sizes(shape_text);
      for (std::string d; std::getline(sizes, d, ',');) dims.push_back(std::stoll(d));
    }
    e.shape = Shape(dims);
    out[name] = e;
  }
  return out;
}

void check_against_expected(const Module& model, double tolerance) {
  std::map<std::string, Expected> expected = read_expected(std::string(NIB_FIXTURE_DIR) + "/interop/small_model_expected.txt");
  NamedTensors state = model.state_dict();
  REQUIRE(state.size() == expected.size());
  for (const auto& [binding_name, t] : state) {
    const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in INFO
    INFO(name);
    REQUIRE(expected.count(name));
    const Expected& e = expected[name];
    CHECK(t.shape() == e.shape);
    std::vector<float> v = to_f32(t).to_vector();
    double sum = 0, abs_sum = 0;
    for (float x : v) {
      sum += x;
      abs_sum += std::fabs(x);
    }
    CHECK(sum == doctest::Approx(e.sum).epsilon(tolerance).scale(1.0));
    CHECK(abs_sum == doctest::Approx(e.abs_sum).epsilon(tolerance));
    CHECK(v[0] == doctest::Approx(e.first).epsilon(tolerance).scale(1.0));
  }
}

}  // namespace

TEST_CASE("interop: a PyTorch state_dict written by hand in Python loads by name") {
  auto model = small_cnn();
  std::map<std::string, std::string> metadata =
      load_module(*model, std::string(NIB_FIXTURE_DIR) + "/interop/small_model.safetensors");
  CHECK(metadata.at("source") == "torch");
  check_against_expected(*model, 1e-6);
  CHECK(static_cast<BatchNorm2d&>((*model)[1]).num_batches_tracked.data_as<int64_t>()[0] == 3);
}

TEST_CASE("interop: the same weights stored as float16 and float64 load converted") {
  auto model = small_cnn();
  load_module(*model, std::string(NIB_FIXTURE_DIR) + "/interop/small_model_f16.safetensors");
  check_against_expected(*model, 2e-3);  // float16 keeps about 3 decimal digits
}

TEST_CASE("interop: the loaded weights give PyTorch's output (layouts OIHW, NCHW and flatten order agree)") {
  auto model = small_cnn();
  load_module(*model, std::string(NIB_FIXTURE_DIR) + "/interop/small_model.safetensors");
  SafeTensorsFile io = load_safetensors(std::string(NIB_FIXTURE_DIR) + "/interop/small_model_io.safetensors");
  REQUIRE(io.tensors.size() == 2);
  Tensor x = io.tensors[0].second, expected = io.tensors[1].second;
  REQUIRE(x.shape() == Shape{2, 1, 6, 6});
  REQUIRE(expected.shape() == Shape{2, 3});

  // The convolution and BatchNorm (evaluation mode) as plain loops, since
  // their ops are not in this branch; the Linear layer is nib's own.
  auto& conv = static_cast<Conv2d&>((*model)[0]);
  auto& bn = static_cast<BatchNorm2d&>((*model)[1]);
  std::vector<float> in = x.to_vector(), w = conv.weight.to_vector(), b = conv.bias.to_vector();
  std::vector<float> gamma = bn.weight.to_vector(), beta = bn.bias.to_vector();
  std::vector<float> mean = bn.running_mean.to_vector(), var = bn.running_var.to_vector();
  std::vector<float> features(2 * 4 * 4 * 4);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          double acc = b[c];
          for (int ki = 0; ki < 3; ++ki)
            for (int kj = 0; kj < 3; ++kj) acc += w[c * 9 + ki * 3 + kj] * in[n * 36 + (i + ki) * 6 + (j + kj)];
          double normalized = (acc - mean[c]) / std::sqrt(var[c] + 1e-5) * gamma[c] + beta[c];
          features[((n * 4 + c) * 4 + i) * 4 + j] = static_cast<float>(std::max(normalized, 0.0));
        }
  Tensor y = (*model)[4](Tensor::from_vector(features, {2, 64}));
  NIB_CHECK_CLOSE(y, expected, 1e-5);
}
