// nib's VGG16, MobileNetV2 and ResNet-18 against torchvision's: the same
// parameter names in the same order, and the same outputs at every stage for
// the same weights (tools/fixtures/torchvision_models.py: reduced-width
// networks with random weights and random BatchNorm statistics, outputs
// recorded with forward hooks in float64).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "formats/safetensors.h"
#include "layers/state_dict.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "tensor/autograd.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"

using namespace nib;

namespace {

std::string fixture(const std::string& name) { return std::string(NIB_FIXTURE_DIR) + "/torchvision/" + name; }

// max |a - b| / max |b|: the error relative to the stage's largest value,
// with no floor, so small activations are held to the same standard.
double relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return INFINITY;
    worst = std::max(worst, std::fabs(static_cast<double>(x[i]) - y[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(y[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

struct Fixture {
  std::string arch;
  std::map<std::string, std::string> metadata;
  NamedTensors weights;
};

Fixture load_fixture(const std::string& arch) {
  SafeTensorsFile file = load_safetensors(fixture(arch + ".safetensors"));
  return {arch, file.metadata, file.tensors};
}

// The model the fixture was made for: torchvision's names at the fixture's width.
ModulePtr build_for(const Fixture& f, const std::string& padding) {
  models::ModelSpec spec;
  spec.name = f.arch;
  spec.in_channels = 3;
  spec.classes = std::stoll(f.metadata.at("classes"));
  spec.options["width"] = f.metadata.at("width");
  spec.options["padding"] = padding;
  return models::build_model(spec);
}

// Runs the model on the fixture's input and compares every recorded stage.
void check_outputs(const std::string& arch, const std::string& padding, const std::string& io_name) {
  Fixture f = load_fixture(arch);
  ModulePtr model = build_for(f, padding);
  load_state_dict(*model, f.weights, /*strict=*/true);
  model->eval();

  SafeTensorsFile inputs = load_safetensors(fixture(arch + "_io.safetensors"));
  SafeTensorsFile io = load_safetensors(fixture(io_name));
  Tensor x;
  for (const auto& [name, t] : inputs.tensors)
    if (name == "input") x = t;
  REQUIRE(x.defined());

  std::map<std::string, Tensor> ours;
  for (const auto& [name, expected] : io.tensors) {
    if (name.rfind("out.", 0) != 0 || name == "out.logits") continue;
    std::string module = name.substr(4);
    Module* m = model->find(module);
    INFO(arch << ": no module " << module);
    REQUIRE(m != nullptr);
    m->set_output_hook([&ours, module](const Tensor& y) { ours[module] = y; });
  }
  {
    NoGrad no_grad;
    ours["logits"] = (*model)(x);
  }
  int compared = 0;
  for (const auto& [name, expected] : io.tensors) {
    if (name.rfind("out.", 0) != 0) continue;
    std::string module = name.substr(4);
    INFO(arch << " (" << padding << ") " << module);
    REQUIRE(ours.count(module));
    CHECK(ours[module].shape() == expected.shape());
    if (ours[module].shape() != expected.shape()) continue;
    double err = relative_error(ours[module], expected);
    INFO("max |nib - torch| / max |torch| = " << err);
    CHECK(err < 1e-4);
    ++compared;
  }
  CHECK(compared == static_cast<int>(io.tensors.size()) - (io_name == arch + "_io.safetensors" ? 1 : 0));
}

// "name 64,3,7,7" lines of torchvision's full-size state_dict.
std::vector<std::pair<std::string, std::vector<int64_t>>> torchvision_names(const std::string& arch) {
  std::ifstream in(fixture(arch + "_names.txt"));
  REQUIRE(in.good());
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, dims, dim;
    fields >> name >> dims;
    std::vector<int64_t> shape;
    std::istringstream items(dims);
    while (dims != "scalar" && std::getline(items, dim, ',')) shape.push_back(std::stoll(dim));
    out.emplace_back(name, shape);
  }
  return out;
}

std::vector<int64_t> dims(const Shape& shape) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < shape.rank(); ++i) out.push_back(shape[i]);
  return out;
}

std::string load_error(Module& model, const NamedTensors& tensors) {
  return testing::error_of([&] { load_state_dict(model, tensors, /*strict=*/true); });
}

}  // namespace

TEST_CASE("torchvision models: every stage matches torchvision") {
  SUBCASE("vgg16") { check_outputs("vgg16", "torch", "vgg16_io.safetensors"); }
  SUBCASE("mobilenet_v2") { check_outputs("mobilenet_v2", "torch", "mobilenet_v2_io.safetensors"); }
  SUBCASE("mobilenet_v2 with TensorFlow SAME padding") {
    check_outputs("mobilenet_v2", "tf_same", "mobilenet_v2_tf_same_io.safetensors");
  }
  SUBCASE("resnet18") { check_outputs("resnet18", "torch", "resnet18_io.safetensors"); }
}

TEST_CASE("torchvision models: padding changes the result (the tf_same fixture is not the torch one)") {
  SafeTensorsFile a = load_safetensors(fixture("mobilenet_v2_io.safetensors"));
  SafeTensorsFile b = load_safetensors(fixture("mobilenet_v2_tf_same_io.safetensors"));
  auto logits = [](const SafeTensorsFile& f) {
    for (const auto& [name, t] : f.tensors)
      if (name == "out.logits") return t;
    FAIL("no logits");
    return Tensor();
  };
  CHECK(relative_error(logits(a), logits(b)) > 1e-2);
}

TEST_CASE("torchvision models: state_dict names and order are torchvision's") {
  for (const char* arch : {"vgg16", "mobilenet_v2", "resnet18"}) {
    INFO(arch);
    Fixture f = load_fixture(arch);
    NamedTensors ours = build_for(f, "torch")->state_dict();
    // The reduced-width fixture: names, order and shapes.
    REQUIRE(ours.size() == f.weights.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      CHECK(ours[i].first == f.weights[i].first);
      CHECK(ours[i].second.shape() == f.weights[i].second.shape());
    }
    // Full size: the same names in the same order as torchvision's own model.
    auto full = torchvision_names(arch);
    REQUIRE(ours.size() == full.size());
    for (size_t i = 0; i < ours.size(); ++i) CHECK(ours[i].first == full[i].first);
  }
  // Full-size shapes (VGG16's 138M parameters are checked by torchvision_models.py --full instead).
  for (const char* arch : {"mobilenet_v2", "resnet18"}) {
    INFO(arch);
    models::ModelSpec spec{arch, 3, 224, 1000, {}};
    NamedTensors ours = models::build_model(spec)->state_dict();
    auto full = torchvision_names(arch);
    REQUIRE(ours.size() == full.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      INFO(full[i].first);
      CHECK(dims(ours[i].second.shape()) == full[i].second);
    }
  }
}

TEST_CASE("torchvision models: checkpoints that do not fit are refused, naming every offending tensor") {
  Fixture vgg = load_fixture("vgg16"), resnet = load_fixture("resnet18");
  ModulePtr model = build_for(resnet, "torch");

  SUBCASE("another architecture") {
    std::string error = load_error(*model, vgg.weights);
    // One line: the first problems (the model's own tensors, in order), then how many more.
    CHECK(error.find('\n') == std::string::npos);
    CHECK(error.find("conv1.weight: missing") != std::string::npos);
    CHECK(error.find("bn1.weight: missing") != std::string::npos);
    CHECK(error.find(" more") != std::string::npos);
    // Through the loader, the file's metadata already names the mismatch.
    CHECK_THROWS_WITH_AS(models::load_pretrained("resnet18", fixture("vgg16.safetensors"), {}),
                         doctest::Contains("these weights are for vgg16, not resnet18"), Error);
  }
  SUBCASE("a missing, an extra and a wrong-shape tensor") {
    NamedTensors weights;
    for (const auto& [name, t] : resnet.weights) {
      if (name == "layer2.0.downsample.1.running_var") continue;
      weights.emplace_back(name, name == "layer3.1.conv2.weight" ? Tensor::zeros({3, 3, 3, 3}) : t);
    }
    weights.emplace_back("layer5.0.conv1.weight", Tensor::zeros({4}));
    std::string error = load_error(*model, weights);
    CHECK(error.find("layer2.0.downsample.1.running_var: missing") != std::string::npos);
    CHECK(error.find("layer5.0.conv1.weight: unexpected") != std::string::npos);
    CHECK(error.find("layer3.1.conv2.weight: shape [3, 3, 3, 3] given") != std::string::npos);
  }
  SUBCASE("the loader names the file") {
    testing::TempDir dir;
    NamedTensors weights(resnet.weights.begin() + 1, resnet.weights.end());
    std::string path = dir.file("cut.safetensors");
    save_safetensors(path, weights, resnet.metadata);
    std::string error = testing::error_of([&] { models::load_pretrained("resnet18", path, {}); });
    CHECK(error.rfind(path + ": does not fit resnet18: ", 0) == 0);
    CHECK(error.find("conv1.weight: missing") != std::string::npos);
  }
}

TEST_CASE("torchvision models: checkpoints without BatchNorm step counters load, as in PyTorch") {
  Fixture f = load_fixture("mobilenet_v2");
  NamedTensors weights;
  for (const auto& entry : f.weights)
    if (!entry.first.ends_with("num_batches_tracked")) weights.push_back(entry);
  REQUIRE(weights.size() < f.weights.size());
  ModulePtr model = build_for(f, "torch");
  LoadReport report = load_state_dict(*model, weights, /*strict=*/true);
  CHECK(report.missing.empty());
}

TEST_CASE("torchvision models: load_pretrained reads a fixture's width and classes from its metadata") {
  models::PretrainedModel net = models::load_pretrained("mobilenet_v2", fixture("mobilenet_v2.safetensors"), {});
  CHECK(net.spec.classes == 10);
  CHECK(net.spec.options["width"] == "0.25");
  CHECK_FALSE(net.model->is_training());
}
