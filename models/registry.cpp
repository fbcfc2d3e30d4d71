#include "models/registry.h"

#include <cstdlib>
#include <set>
#include <sstream>

#include "models/basic_cnn.h"
#include "models/keras/keras_graph.h"
#include "models/mlp.h"
#include "models/mobilenet_v2.h"
#include "models/resnet.h"
#include "models/transfer.h"
#include "models/vgg.h"

namespace nib::models {

namespace {

// Reads options, remembering which were used so unknown ones are reported.
class OptionReader {
 public:
  OptionReader(const ModelSpec& spec) : spec_(spec) {}
  int64_t integer(const std::string& key, int64_t fallback) {
    used_.insert(key);
    auto it = spec_.options.find(key);
    if (it == spec_.options.end()) return fallback;
    char* end = nullptr;
    long long v = std::strtoll(it->second.c_str(), &end, 10);
    NIB_CHECK(end && *end == '\0' && v > 0, spec_.name, ": option ", key, " expects a positive integer, got '",
              it->second, "'");
    return v;
  }
  float real(const std::string& key, float fallback) {
    used_.insert(key);
    auto it = spec_.options.find(key);
    if (it == spec_.options.end()) return fallback;
    char* end = nullptr;
    float v = std::strtof(it->second.c_str(), &end);
    NIB_CHECK(end && *end == '\0', spec_.name, ": option ", key, " expects a number, got '", it->second, "'");
    return v;
  }
  std::vector<int64_t> integers(const std::string& key, std::vector<int64_t> fallback) {
    used_.insert(key);
    auto it = spec_.options.find(key);
    if (it == spec_.options.end()) return fallback;
    std::vector<int64_t> out;
    std::stringstream items(it->second);
    std::string item;
    while (std::getline(items, item, '-')) {
      char* end = nullptr;
      long long v = std::strtoll(item.c_str(), &end, 10);
      NIB_CHECK(end && *end == '\0' && v > 0, spec_.name, ": option ", key,
                " expects widths like 512-512, got '", it->second, "'");
      out.push_back(v);
    }
    return out;
  }
  std::string text(const std::string& key, const std::string& fallback) {
    used_.insert(key);
    auto it = spec_.options.find(key);
    return it == spec_.options.end() ? fallback : it->second;
  }
  bool boolean(const std::string& key, bool fallback) {
    used_.insert(key);
    auto it = spec_.options.find(key);
    if (it == spec_.options.end()) return fallback;
    NIB_CHECK(it->second == "true" || it->second == "false", spec_.name, ": option ", key,
              " expects true or false, got '", it->second, "'");
    return it->second == "true";
  }
  void finish(const std::string& valid) const {
    for (const auto& [key, value] : spec_.options)
      NIB_CHECK(used_.count(key), spec_.name, ": unknown option '", key, "' (valid: ", valid, ")");
  }

 private:
  const ModelSpec& spec_;
  std::set<std::string> used_;
};

ModulePtr build_mlp(const ModelSpec& spec, const std::string& valid) {
  OptionReader opt(spec);
  MlpConfig c;
  c.inputs = spec.in_channels * spec.image_size * spec.image_size;
  c.classes = spec.classes;
  c.hidden = opt.integers("hidden", c.hidden);
  c.dropout = opt.real("dropout", c.dropout);
  opt.finish(valid);
  return mlp(c);
}

BasicCnnConfig basic_cnn_config(const ModelSpec& spec, const std::string& valid) {
  OptionReader opt(spec);
  BasicCnnConfig c;
  c.in_channels = spec.in_channels;
  c.image_size = spec.image_size;
  c.classes = spec.classes;
  c.conv1_channels = opt.integer("conv1", c.conv1_channels);
  c.conv2_channels = opt.integer("conv2", c.conv2_channels);
  c.kernel = opt.integer("kernel", c.kernel);
  c.same_padding = opt.boolean("same", c.same_padding);
  c.blocks = opt.integer("blocks", c.blocks);
  c.hidden = opt.integer("hidden", c.hidden);
  c.dropout = opt.real("dropout", c.dropout);
  opt.finish(valid);
  return c;
}

ModulePtr build_basic_cnn(const ModelSpec& spec, const std::string& valid) {
  return basic_cnn(basic_cnn_config(spec, valid));
}

// The torchvision architectures share their options.
TorchvisionConfig torchvision_config(const ModelSpec& spec, const std::string& valid) {
  NIB_CHECK(spec.in_channels == 3, spec.name, " takes RGB input (3 channels), not ", spec.in_channels,
            " (grayscale images are repeated to 3 channels by nib finetune)");
  OptionReader opt(spec);
  TorchvisionConfig c;
  c.classes = spec.classes;
  c.padding = parse_padding_style(opt.text("padding", "torch"));
  c.width = static_cast<float>(opt.real("width", 1.0));
  c.features_only = opt.boolean("features_only", false);
  c.dropout = static_cast<float>(opt.real("dropout", -1.0));
  opt.finish(valid);
  return c;
}

ModulePtr build_vgg16(const ModelSpec& spec, const std::string& valid) {
  return std::make_shared<Vgg16>(torchvision_config(spec, valid));
}
ModulePtr build_mobilenet_v2(const ModelSpec& spec, const std::string& valid) {
  return std::make_shared<MobileNetV2>(torchvision_config(spec, valid));
}
ModulePtr build_resnet18(const ModelSpec& spec, const std::string& valid) {
  return std::make_shared<ResNet18>(torchvision_config(spec, valid));
}

ModulePtr build_keras_graph(const ModelSpec& spec, const std::string& valid) {
  OptionReader opt(spec);
  Preprocess preprocess = parse_preprocess(opt.text("preprocess", "none"));
  bool features_only = opt.boolean("features_only", false);
  opt.text("source", "");  // the Keras file it came from, for the record
  opt.finish(valid);
  NIB_CHECK(!spec.graph.is_null(), "keras_graph: the model spec has no layer graph (config.json lacks \"graph\")");
  return std::make_shared<keras::KerasGraph>(keras::GraphDescription::from_json(spec.graph), spec.in_channels,
                                             spec.image_size, preprocess, features_only);
}

struct Entry {
  ModelInfo info;
  ModulePtr (*build)(const ModelSpec&, const std::string& valid);
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> all = {
      {{"basic-cnn", "conv5x5-pool-conv5x5-pool-dense-dropout-dense (the seed assignment's CNN)",
        "conv1=32, conv2=64, kernel=5, same=false, blocks=2, hidden=128, dropout=0.3", {"basic-cnn", 1, 28, 10, {}}},
       build_basic_cnn},
      {{"mlp", "multilayer perceptron, ReLU + dropout after each hidden layer", "hidden=512-512, dropout=0.2",
        {"mlp", 1, 28, 10, {}}},
       build_mlp},
      {{"vgg16", "VGG16 (torchvision names; 13 conv layers, 3 dense)",
        "padding=torch|tf_same, width=1.0, features_only=false, dropout=0.5", {"vgg16", 3, 224, 1000, {}}},
       build_vgg16},
      {{"mobilenet_v2", "MobileNetV2 (torchvision names; inverted residuals, depthwise convs, ReLU6)",
        "padding=torch|tf_same, width=1.0, features_only=false, dropout=0.2", {"mobilenet_v2", 3, 224, 1000, {}}},
       build_mobilenet_v2},
      {{"resnet18", "ResNet-18 (torchvision names; basic residual blocks)",
        "padding=torch|tf_same, width=1.0, features_only=false", {"resnet18", 3, 224, 1000, {}}},
       build_resnet18},
      {{"transfer", "a pretrained base with a new head (nib finetune; models/transfer.h)",
        "base=mobilenet_v2|vgg16|resnet18|keras_graph, padding=torch, preprocess=torch, head=gap,dense128,dropout0.5, "
        "width=1.0, base_channels=3, base_preprocess=none",
        {"transfer", 3, 224, 10, {}}},
       [](const ModelSpec& spec, const std::string&) -> ModulePtr { return build_transfer(transfer_config(spec)); }},
      {{"keras_graph", "a Keras model converted by `nib convert model.h5 RUN_DIR` (its layers are in config.json)",
        "preprocess=none|raw|tf|caffe|torch, features_only=false, source=FILE",
        {"keras_graph", 1, 28, 10, {}, keras::example_graph()}},
       build_keras_graph},
  };
  return all;
}

// The entry named `name`; throws for an unknown model, naming the known ones.
const Entry& entry(const std::string& name) {
  std::string names;
  for (const auto& e : entries()) {
    if (e.info.name == name) return e;
    names += (names.empty() ? "" : ", ") + e.info.name;
  }
  fail("unknown model '", name, "' (available: ", names, ")");
}

}  // namespace

const std::vector<ModelInfo>& list_models() {
  static const std::vector<ModelInfo> infos = [] {
    std::vector<ModelInfo> out;
    for (const auto& e : entries()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

ModulePtr build_model(const ModelSpec& spec) {
  const Entry& e = entry(spec.name);
  return e.build(spec, e.info.options);
}

std::map<std::string, std::string> size_chosen_options(const ModelSpec& spec) {
  if (spec.name != "basic-cnn" || spec.options.count("blocks")) return {};
  BasicCnnConfig c = basic_cnn_config(spec, entry(spec.name).info.options);
  const int64_t blocks = basic_cnn_blocks_for(c);
  if (blocks == c.blocks) return {};
  return {{"blocks", std::to_string(blocks)}};
}

std::map<std::string, std::string> parse_options(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    NIB_CHECK(eq != std::string::npos && eq > 0, "model option '", item, "' is not of the form key=value");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

}  // namespace nib::models

namespace nib::models {

std::string describe_options(const ModelSpec& spec) {
  std::string text = std::to_string(spec.in_channels) + "x" + std::to_string(spec.image_size) + "x" +
                     std::to_string(spec.image_size) + " -> " + std::to_string(spec.classes) + " classes";
  for (const auto& [key, value] : spec.options) text += ", " + key + "=" + value;
  return text;
}

}  // namespace nib::models
