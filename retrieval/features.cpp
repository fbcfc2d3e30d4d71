#include "retrieval/features.h"

#include "retrieval/search.h"

#include <filesystem>

#include "layers/sequential.h"
#include "layers/state_dict.h"
#include "models/imagenet_weights.h"
#include "models/keras/keras_graph.h"
#include "models/pretrained.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "tensor/image_tensor.h"
#include "train/run_dir.h"
#include "util/image.h"
#include "util/image_resample.h"
#include "util/json.h"
#include "util/progress.h"

namespace nib::retrieval {

namespace {

// An image in memory ([C, H, W] in [0, 1]) at `channels` x size x size.
Tensor conform(const Tensor& chw, int64_t channels, int64_t size) {
  Tensor x = chw;
  if (x.size(0) != channels) {
    Image image = tensor_to_image(x);
    image = channels == 3 ? to_rgb(image) : to_gray(image);
    x = image_to_tensor(image);
  }
  if (x.size(1) != size || x.size(2) != size)
    x = image_to_tensor(resize_pil_bilinear(tensor_to_image(x), static_cast<int>(size), static_cast<int>(size)));
  return x.reshape({1, channels, size, size});
}

}  // namespace

FeatureExtractor::FeatureExtractor(const ExtractorOptions& options) : options_(options) {
  const std::string& name = options.model;
  NIB_CHECK(!name.empty(), "feature extraction needs --model (mobilenet_v2, vgg16, resnet18, pixels or a run directory)");
  NIB_CHECK(options.batch_size >= 1, "feature extraction: --batch-size must be at least 1");
  NIB_CHECK(options.center_crop > 0 && options.center_crop <= 1, "feature extraction: --center-crop ",
            options.center_crop, " is not in (0, 1]");
  std::string model_name = name;
  if (name == "pixels") {
    image_size_ = options.image_size > 0 ? options.image_size : 32;
    channels_ = options.channels > 0 ? options.channels : 3;
    NIB_CHECK(channels_ == 1 || channels_ == 3, "pixels: --channels must be 1 or 3");
    layer_ = "pixels";
  } else if (std::filesystem::exists(name + "/config.json")) {
    // A run of nib train: its own model, input size and channels.
    model_name = std::filesystem::absolute(name).lexically_normal().string();
    train::RunInfo info = train::load_run_info(name);
    model_ = models::build_model(info.model);
    load_module(*model_, name + "/model.safetensors");
    preprocess_ = models::parse_preprocess(info.preprocess);
    preparation_ = data::choose_preparation(options.prepare, info.input);
    image_size_ = info.model.image_size;
    channels_ = info.model.in_channels;
    NIB_CHECK(options.image_size == 0 || options.image_size == image_size_, name, " was trained on ", image_size_,
              "x", image_size_, " images; --image-size ", options.image_size, " does not fit it");
    // Default: the input of the last layer (the penultimate features); for a
    // model converted from Keras, the input of its final Dense.
    if (auto* seq = dynamic_cast<Sequential*>(model_.get()); seq && seq->size() >= 2)
      layer_ = seq->children()[seq->size() - 2].first;
    if (auto* keras = dynamic_cast<models::keras::KerasGraph*>(model_.get()); keras && options.layer.empty())
      layer_ = keras->graph().feature_layer();
  } else {
    NIB_CHECK(!options.weights.empty(), "--model ", name, " needs --weights (or give a run directory of nib train)");
    models::PretrainedOptions p;
    p.padding = options.padding;
    p.preprocess = options.preprocess;
    p.image_size = options.image_size > 0 ? options.image_size : 224;
    models::PretrainedModel net = models::load_pretrained(name, options.weights, p);
    model_ = net.model;
    preprocess_ = net.preprocess;
    image_size_ = p.image_size;
    channels_ = 3;
    padding_ = net.spec.options["padding"];
    weights_ = std::filesystem::absolute(models::resolve_weights(name, options.weights)).lexically_normal().string();
    // Default: the global-average-pooled last feature map (1280-d MobileNetV2,
    // 512-d ResNet-18); VGG16, and networks saved without their top, have no
    // such layer, so their last feature map is pooled here.
    layer_ = name == "vgg16" || !model_->find("avgpool") ? "features" : "avgpool";
    global_pool_ = layer_ == "features";
  }
  if (!options.layer.empty()) {  // a layer asked for by name is taken as it is, unless pooling is asked for too
    layer_ = options.layer;
    global_pool_ = false;
  }
  global_pool_ = global_pool_ || options.global_pool;
  if (model_) {
    model_->to(options.device);
    model_->eval();
    hooked_ = model_->find(layer_);
    NIB_CHECK(hooked_, "no layer '", layer_, "' in ", name, " (`nib extract --model ", name,
              " --list-layers` lists them)");
  }
  description_["model"] = model_name;
  if (!weights_.empty()) description_["weights"] = weights_;
  if (!padding_.empty()) description_["padding"] = padding_;
  description_["layer"] = layer_;
  description_["global_pool"] = global_pool_ ? "true" : "false";
  description_["preprocess"] = models::preprocess_name(preprocess_);
  description_["image_size"] = std::to_string(image_size_);
  description_["channels"] = std::to_string(channels_);
  description_["center_crop"] = json::dump(json::Value(options.center_crop), -1);
  description_["l2_normalize"] = options.l2_normalize ? "true" : "false";
  // Only when files are prepared: indexes made without it keep their description.
  if (preparation_.prepare != data::InputStyle::Prepare::None) description_["prepare"] = preparation_.describe();
}

Tensor FeatureExtractor::features_of_batch(const Tensor& batch) {
  NoGrad no_grad;
  Tensor out;
  if (!model_) {
    out = batch.flatten(1);
  } else {
    Tensor captured;
    hooked_->set_output_hook([&](const Tensor& y) { captured = y; });
    (*model_)(models::preprocess(batch.to(options_.device), preprocess_));
    hooked_->set_output_hook(nullptr);
    NIB_CHECK(captured.defined(), "layer '", layer_, "' was not called by the model's forward pass");
    if (global_pool_ && captured.dim() == 4) captured = ops::global_avg_pool(captured);
    out = captured.cpu();
  }
  Shape shape = out.shape();
  Tensor rows = out.flatten(1);
  rows = options_.l2_normalize ? l2_normalize_rows(rows) : rows.clone();
  return options_.keep_shape ? rows.reshape(shape) : rows;
}

Tensor FeatureExtractor::extract_files(const std::vector<std::string>& paths, bool progress) {
  NIB_CHECK(!paths.empty(), "feature extraction: no images");
  std::vector<Tensor> parts;
  int64_t batches = (static_cast<int64_t>(paths.size()) + options_.batch_size - 1) / options_.batch_size;
  ProgressBar bar(batches, "Extracting");
  for (int64_t b = 0; b < batches; ++b) {
    size_t begin = b * options_.batch_size, end = std::min(paths.size(), begin + options_.batch_size);
    std::vector<Tensor> images;
    for (size_t i = begin; i < end; ++i) {
      const bool prepared = preparation_.prepare != data::InputStyle::Prepare::None;
      Image image = load_image(paths[i], prepared ? 0 : static_cast<int>(channels_));
      NIB_CHECK(image.width >= 2 && image.height >= 2, paths[i], ": image is too small");
      if (options_.center_crop < 1.0) image = center_crop_fraction(image, options_.center_crop);
      if (prepared)
        image = data::prepare_image(image, preparation_, static_cast<int>(channels_), static_cast<int>(image_size_),
                                    paths[i]);
      images.push_back(conform(image_to_tensor(image), channels_, image_size_));
    }
    parts.push_back(features_of_batch(ops::concat(images, 0)));
    if (progress) bar.update(b + 1, static_cast<int64_t>(end), {});
  }
  if (progress) bar.finish({}, static_cast<int64_t>(paths.size()));
  return ops::concat(parts, 0);
}

Tensor FeatureExtractor::extract_images(const Tensor& images, bool progress) {
  NIB_CHECK(images.dim() == 4, "feature extraction: expected images [N, C, H, W], got ", images.shape());
  int64_t n = images.size(0);
  std::vector<Tensor> parts;
  int64_t batches = (n + options_.batch_size - 1) / options_.batch_size;
  ProgressBar bar(batches, "Extracting");
  for (int64_t b = 0; b < batches; ++b) {
    int64_t begin = b * options_.batch_size, end = std::min(n, begin + options_.batch_size);
    Tensor batch = images.slice_rows(begin, end);
    if (batch.size(1) != channels_ || batch.size(2) != image_size_ || batch.size(3) != image_size_) {
      std::vector<Tensor> conformed;
      for (int64_t i = begin; i < end; ++i)
        conformed.push_back(conform(images.slice_rows(i, i + 1).reshape({images.size(1), images.size(2),
                                                                           images.size(3)}),
                                    channels_, image_size_));
      batch = ops::concat(conformed, 0);
    }
    parts.push_back(features_of_batch(batch));
    if (progress) bar.update(b + 1, end, {});
  }
  if (progress) bar.finish({}, n);
  return ops::concat(parts, 0);
}

std::map<std::string, std::string> FeatureExtractor::describe() const { return description_; }

std::vector<std::string> FeatureExtractor::layers() {
  NIB_CHECK(model_, "--model pixels has no layers");
  return describe_layers(*model_, channels_, image_size_);
}

ExtractorOptions extractor_options(const std::map<std::string, std::string>& description) {
  auto get = [&](const std::string& key) -> std::string {
    auto it = description.find(key);
    NIB_CHECK(it != description.end(), "the feature extractor's description has no '", key,
              "' (made by another version of nib?)");
    return it->second;
  };
  auto optional = [&](const std::string& key) {
    auto it = description.find(key);
    return it == description.end() ? std::string() : it->second;
  };
  ExtractorOptions options;
  options.model = get("model");
  options.weights = optional("weights");
  options.padding = optional("padding");
  options.layer = get("layer");
  options.global_pool = get("global_pool") == "true";
  options.preprocess = get("preprocess");
  auto number = [&](const std::string& key) {
    std::string text = get(key);
    try {
      return std::stod(text);
    } catch (const std::exception&) {
      fail("the feature extractor's ", key, " '", text, "' is not a number");
    }
  };
  options.image_size = static_cast<int64_t>(number("image_size"));
  options.channels = options.model == "pixels" ? static_cast<int64_t>(number("channels")) : 0;
  options.center_crop = number("center_crop");
  options.l2_normalize = get("l2_normalize") == "true";
  // A run directory knows its own preprocessing; the flag is for pretrained weights.
  if (options.weights.empty()) options.preprocess.clear();
  // Indexes made before files were prepared (or with --prepare none) have no
  // "prepare"; an MNIST-style one is what --prepare mnist gives whatever the run records.
  std::string prepared = optional("prepare");
  options.prepare = prepared.empty() ? "none" : prepared.starts_with("MNIST-style") ? "mnist" : "auto";
  return options;
}

std::vector<std::string> describe_layers(Module& model, int64_t channels, int64_t image_size) {
  std::vector<std::pair<std::string, Module*>> modules = model.named_modules();
  std::vector<std::string> shapes(modules.size());
  for (size_t i = 0; i < modules.size(); ++i)
    modules[i].second->set_output_hook([&shapes, i](const Tensor& y) { shapes[i] = y.shape().str(); });
  {
    NoGrad no_grad;
    bool was_training = model.is_training();
    model.eval();
    model(Tensor::zeros({1, channels, image_size, image_size}, model.parameters().empty()
                                                                     ? kCPU
                                                                     : model.parameters()[0].device()));
    model.train(was_training);
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < modules.size(); ++i) {
    modules[i].second->set_output_hook(nullptr);
    if (modules[i].first.empty()) continue;
    lines.push_back(modules[i].first + "  " + modules[i].second->describe() + "  -> " +
                    (shapes[i].empty() ? std::string("(not called)") : shapes[i]));
  }
  return lines;
}

}  // namespace nib::retrieval
