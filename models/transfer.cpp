#include "models/transfer.h"

#include "formats/safetensors.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/pooling.h"
#include "layers/shape_layers.h"
#include "layers/state_dict.h"
#include "models/head.h"
#include "models/keras/keras_graph.h"
#include "models/pretrained.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::models {

Transfer::Transfer(ModulePtr base_module, std::shared_ptr<Sequential> head_module, Preprocess mode, int64_t channels,
                   int64_t base_channels)
    : base(register_module("base", std::move(base_module))),
      head(register_module("head", std::move(head_module))),
      preprocess(mode),
      in_channels(channels),
      base_channels(base_channels) {
  NIB_CHECK(in_channels == 1 || in_channels == 3, "transfer: input must have 1 or 3 channels, got ", in_channels);
  NIB_CHECK(in_channels <= base_channels, "transfer: the base takes ", base_channels,
            "-channel images; give it grayscale data (--channels 1)");
}

std::string Transfer::describe() const {
  return str("Transfer(base=", base->describe(), ", head: ", head->size(), " layers, input ", in_channels,
             " channel(s), preprocess=", preprocess_name(preprocess), ")");
}

Tensor Transfer::base_input(const Tensor& images) const {
  NIB_CHECK(images.dim() == 4 && images.size(1) == in_channels, "transfer: expected images [N, ", in_channels,
            ", H, W], got ", images.shape());
  Tensor rgb = in_channels == 1 && base_channels == 3 ? ops::concat({images, images, images}, 1) : images;
  return models::preprocess(rgb, preprocess);
}

size_t Transfer::fixed_head_layers() const {
  size_t n = 0;
  while (n < head->size() && (dynamic_cast<GlobalAvgPool*>(&(*head)[n]) || dynamic_cast<Flatten*>(&(*head)[n]))) ++n;
  return n;
}

Tensor Transfer::frozen_features(const Tensor& images) {
  Tensor y = (*base)(base_input(images));
  for (size_t i = 0, n = fixed_head_layers(); i < n; ++i) y = (*head)[i](y);
  return y;
}

Tensor Transfer::head_from_features(const Tensor& features) {
  Tensor y = features;
  for (size_t i = fixed_head_layers(); i < head->size(); ++i) y = (*head)[i](y);
  return y;
}

Tensor Transfer::forward(const Tensor& images) { return head_from_features(frozen_features(images)); }

void Transfer::on_train(bool on) {
  if (!on) return;
  for (auto& [name, module] : base->named_modules())
    if (auto* bn = dynamic_cast<BatchNorm2d*>(module); bn && (!bn->weight.requires_grad() || base_batchnorm_eval))
      bn->eval();
}

TransferHead::TransferHead(std::shared_ptr<Transfer> model) : model_(std::move(model)) {
  register_module("head", model_->head);
}

namespace {

std::shared_ptr<Transfer> assemble(ModulePtr base, const TransferConfig& config) {
  // One image through the base tells the head its input shape.
  Shape feature_shape;
  {
    NoGrad no_grad;
    base->eval();
    Tensor probe = Tensor::zeros({1, config.base_channels, config.image_size, config.image_size});
    Shape out = (*base)(probe).shape();
    feature_shape = Shape(std::vector<int64_t>(out.begin() + 1, out.end()));
  }
  auto head = build_head(parse_head(config.head), feature_shape, config.classes);
  return std::make_shared<Transfer>(std::move(base), std::move(head), config.preprocess, config.in_channels,
                                    config.base_channels);
}

// The converted Keras model up to its final Dense's input.
ModulePtr keras_base(const TransferConfig& config) {
  return std::make_shared<keras::KerasGraph>(keras::GraphDescription::from_json(config.base_graph),
                                             config.base_channels, config.image_size,
                                             parse_preprocess(config.base_preprocess), /*features_only=*/true);
}

}  // namespace

std::shared_ptr<Transfer> build_transfer(const TransferConfig& config) {
  if (config.arch == "keras_graph") return assemble(keras_base(config), config);
  ModelSpec base_spec{config.arch, 3, config.image_size, 1000,
                      {{"padding", config.padding}, {"width", config.width}, {"features_only", "true"}}};
  return assemble(build_model(base_spec), config);
}

std::shared_ptr<Transfer> load_transfer(TransferConfig& config, const std::string& weights_path,
                                        const std::string& preprocess) {
  PretrainedOptions options;
  options.padding = config.padding;
  options.preprocess = preprocess;
  options.features_only = true;
  options.image_size = config.image_size;
  PretrainedModel pretrained = load_pretrained(config.arch, weights_path, options);
  config.padding = pretrained.spec.options.at("padding");
  if (pretrained.spec.options.count("width")) config.width = pretrained.spec.options.at("width");
  config.preprocess = pretrained.preprocess;
  return assemble(pretrained.model, config);
}

std::shared_ptr<Transfer> load_keras_transfer(TransferConfig& config, const ModelSpec& run_model,
                                              const std::string& weights_path) {
  NIB_CHECK(run_model.name == "keras_graph", weights_path, ": a run of model '", run_model.name,
            "'; nib finetune takes runs converted from Keras (nib convert) or pretrained weights");
  config.arch = "keras_graph";
  config.base_graph = run_model.graph;
  config.base_channels = run_model.in_channels;
  auto it = run_model.options.find("preprocess");
  config.base_preprocess = it == run_model.options.end() ? "none" : it->second;
  config.preprocess = Preprocess::None;  // the base scales its input itself
  config.padding = "none";
  ModulePtr base = keras_base(config);
  // The run's weights of the layers the base kept (the classifier's are left over).
  NamedTensors kept, all = load_safetensors(weights_path).tensors;
  for (const auto& [name, tensor] : all)
    if (base->find(name.substr(0, name.find('.')))) kept.emplace_back(name, tensor);
  try {
    load_state_dict(*base, kept, /*strict=*/true);
  } catch (const Error& e) {
    fail(weights_path, ": ", e.what());
  }
  return assemble(base, config);
}

ModelSpec transfer_spec(const TransferConfig& config) {
  ModelSpec spec{"transfer", config.in_channels, config.image_size, config.classes,
                 {{"base", config.arch},
                  {"padding", config.padding},
                  {"preprocess", preprocess_name(config.preprocess)},
                  {"head", config.head},
                  {"width", config.width}},
                 {}};
  if (config.arch == "keras_graph") {
    spec.options["base_channels"] = std::to_string(config.base_channels);
    spec.options["base_preprocess"] = config.base_preprocess;
    spec.graph = config.base_graph;
  }
  return spec;
}

TransferConfig transfer_config(const ModelSpec& spec) {
  TransferConfig config;
  for (const auto& [key, value] : spec.options) {
    if (key == "base") config.arch = value;
    else if (key == "padding") config.padding = value;
    else if (key == "preprocess") config.preprocess = parse_preprocess(value);
    else if (key == "head") config.head = value;
    else if (key == "width") config.width = value;
    else if (key == "base_channels") config.base_channels = std::stoll(value);
    else if (key == "base_preprocess") config.base_preprocess = value;
    else fail("transfer: unknown option '", key,
              "' (valid: base, padding, preprocess, head, width, base_channels, base_preprocess)");
  }
  config.base_graph = spec.graph;
  config.in_channels = spec.in_channels;
  config.image_size = spec.image_size;
  config.classes = spec.classes;
  return config;
}

std::vector<std::string> last_blocks(const std::string& arch, Module& base, int64_t k) {
  std::vector<std::string> blocks;  // first to last
  if (arch == "mobilenet_v2") {
    Module* features = base.find("features");
    NIB_CHECK(features, "mobilenet_v2 base has no 'features'");
    for (const auto& [name, child] : features->children()) blocks.push_back("features." + name);
  } else if (arch == "vgg16") {
    for (auto& [name, module] : base.named_modules())
      if (dynamic_cast<Conv2d*>(module)) blocks.push_back(name);
  } else if (arch == "resnet18") {
    for (const char* layer : {"layer1", "layer2", "layer3", "layer4"}) {
      Module* stage = base.find(layer);
      NIB_CHECK(stage, "resnet18 base has no '", layer, "'");
      for (const auto& [name, child] : stage->children()) blocks.push_back(std::string(layer) + "." + name);
    }
  } else if (auto* keras = dynamic_cast<keras::KerasGraph*>(&base); keras && arch == "keras_graph") {
    for (const std::string& name : keras->layer_names())
      if (!base.find(name)->parameters().empty()) blocks.push_back(name);
  } else {
    fail("--unfreeze: no block list for architecture '", arch,
         "' (known: mobilenet_v2, vgg16, resnet18, keras_graph)");
  }
  const auto count = static_cast<int64_t>(blocks.size());
  NIB_CHECK(k >= 1 && k <= count, "--unfreeze last:", k, ": ", arch, " has ", count, " blocks, so K must be 1..",
            count);
  return std::vector<std::string>(blocks.rbegin(), blocks.rbegin() + k);
}

std::vector<std::string> unfreeze_last_blocks(Transfer& model, const std::string& arch, int64_t k) {
  std::vector<std::string> names = last_blocks(arch, *model.base, k);
  for (const std::string& name : names) model.base->find(name)->unfreeze();
  return names;
}

}  // namespace nib::models
