#include "models/keras/converter.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "layers/batchnorm.h"
#include "layers/state_dict.h"
#include "models/keras/keras_file.h"
#include "models/keras/layer_weights.h"
#include "models/pretrained.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "tensor/random.h"

namespace nib::formats::keras {

namespace {

using models::keras::GraphDescription;
using models::keras::GraphLayer;
using models::keras::KerasGraph;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What nib keeps of a layer's config: initialisers, regularisers,
// constraints, dtype policies and the repeated name and input shape only
// matter to Keras' training.
json::Value trimmed_config(const json::Value& config) {
  if (!config.is_object()) return json::Value::object();
  static const std::set<std::string> dropped = {"name", "trainable", "dtype", "batch_input_shape", "batch_shape"};
  json::Value out = json::Value::object();
  for (const auto& [key, value] : config.as_object()) {
    if (dropped.count(key) || ends_with(key, "_initializer") || ends_with(key, "_regularizer") ||
        ends_with(key, "_constraint"))
      continue;
    out[key] = value;
  }
  return out;
}

std::vector<const GraphLayer*> consumers(const GraphDescription& g, const std::string& name) {
  std::vector<const GraphLayer*> out;
  for (const GraphLayer& layer : g.layers)
    for (const auto& in : layer.inputs)
      if (in == name) out.push_back(&layer);
  return out;
}

// The model's final softmax, left to nib (see converter.h). Returns the layer
// that had it, or "".
std::string leave_softmax_to_nib(GraphDescription& g) {
  GraphLayer* out = nullptr;
  for (GraphLayer& layer : g.layers)
    if (layer.name == g.output) out = &layer;
  if (!out) return "";
  const json::Value* activation = out->config.find("activation");
  bool softmax_activation = activation && activation->is_string() && activation->as_string() == "softmax";
  if (softmax_activation && out->class_name != "Activation") {
    out->config["activation"] = "linear";
    return out->name;
  }
  if ((out->class_name == "Softmax" || (out->class_name == "Activation" && softmax_activation)) &&
      out->inputs.size() == 1) {
    std::string name = out->name;
    g.output = out->inputs[0];
    g.layers.erase(g.layers.begin() + (out - g.layers.data()));
    return name;
  }
  return "";
}

// Flatten layers whose output reaches only a Dense (through Dropouts) flatten
// in nib's order, and that Dense's weights are reordered. Returns Dense -> Flatten.
std::map<std::string, std::string> reorder_flattens(GraphDescription& g) {
  std::map<std::string, std::string> dense_to_flatten;
  for (GraphLayer& flatten : g.layers) {
    if (flatten.class_name != "Flatten") continue;
    std::vector<const GraphLayer*> next = consumers(g, flatten.name);
    while (next.size() == 1 && next[0]->class_name == "Dropout") next = consumers(g, next[0]->name);
    if (next.size() != 1 || next[0]->class_name != "Dense") continue;
    flatten.config["nib_order"] = "channels_first";
    dense_to_flatten[next[0]->name] = flatten.name;
  }
  return dense_to_flatten;
}

struct InputSize {
  int64_t channels = 0, image_size = 0;
};

int64_t whole_sqrt(int64_t n) {
  if (n <= 0) return 0;
  auto r = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  return r * r == n ? r : 0;
}

// nib feeds images [N, C, S, S]: which C and S this model takes.
InputSize input_size(const GraphDescription& g, const ConvertOptions& options, const std::string& source) {
  const std::vector<int64_t>& shape = g.input_shape;
  NIB_CHECK(!shape.empty(), source, ": the model does not record its input shape");
  InputSize in;
  if (shape.size() == 2 || shape.size() == 3) {  // (H, W, C), or (H, W) for grayscale (Flatten(input_shape=(28, 28)))
    int64_t h = shape[0], w = shape[1];
    in.channels = shape.size() == 3 ? shape[2] : 1;
    NIB_CHECK(in.channels == 1 || in.channels == 3, source, ": the model takes ", in.channels,
              " channels; nib's images have 1 or 3");
    NIB_CHECK(h < 0 || w < 0 || h == w, source, ": the model takes ", h, "x", w,
              " images; nib's models take square ones");
    int64_t known = h > 0 ? h : w;
    NIB_CHECK(known > 0 || options.image_size > 0, source,
              ": the model's input size is not fixed (None); give one with --image-size");
    NIB_CHECK(known <= 0 || options.image_size <= 0 || options.image_size == known, source, ": the model takes ",
              known, "x", known, " images; --image-size ", options.image_size, " does not fit it");
    in.image_size = known > 0 ? known : options.image_size;
    return in;
  }
  NIB_CHECK(shape.size() == 1 && shape[0] > 0, source, ": input shape of rank ", shape.size(),
            " is not supported (images (H, W, C) or (H, W), or vectors (D))");
  // A vector: an image flattened, D = C * S * S.
  int64_t d = shape[0];
  if (options.image_size > 0) {
    in.image_size = options.image_size;
    in.channels = d % (in.image_size * in.image_size) == 0 ? d / (in.image_size * in.image_size) : 0;
  } else if (int64_t s = whole_sqrt(d)) {
    in = {1, s};
  } else if (int64_t s3 = d % 3 == 0 ? whole_sqrt(d / 3) : 0) {
    in = {3, s3};
  }
  NIB_CHECK(in.channels == 1 || in.channels == 3, source, ": the model takes vectors of ", d,
            " values, which are not a square image of 1 or 3 channels; give the image size with --image-size");
  return in;
}

std::string default_preprocess(const GraphDescription& g, const std::optional<Application>& app,
                               std::vector<std::string>& notes) {
  if (app) return app->preprocess;
  for (const GraphLayer& layer : g.layers) {
    if (layer.inputs.size() != 1 || layer.inputs[0] != g.input_name) continue;
    if (layer.class_name == "Rescaling" || layer.class_name == "Normalization") {
      notes.push_back(str("the model scales its own input (", layer.class_name, " '", layer.name,
                          "'), so it gets pixel values 0..255 (--preprocess raw)"));
      return "raw";
    }
  }
  return "none";
}

std::string keras_shape(const Shape& nib) {
  // nib [1, C, H, W] is Keras (None, H, W, C).
  std::vector<int64_t> dims(nib.begin() + 1, nib.end());
  if (dims.size() == 3) dims = {dims[1], dims[2], dims[0]};
  std::string out = "(None";
  for (int64_t d : dims) out += ", " + std::to_string(d);
  return out + ")";
}

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

ConvertedModel convert_keras_model(const std::string& path, const ConvertOptions& options) {
  KerasFile file = open_keras_file(path);
  ConvertedModel out;
  out.source = path;
  out.format = file.format;
  out.keras_version = file.keras_version;
  out.model_name = file.model.name;
  out.model_class = file.model.class_name;
  out.application = recognise_application(file.model);

  GraphDescription g = file.model.graph;
  for (GraphLayer& layer : g.layers) layer.config = trimmed_config(layer.config);
  if (std::string softmax = leave_softmax_to_nib(g); !softmax.empty())
    out.notes.push_back(str("the final softmax (", softmax,
                            ") is left to nib: the model outputs logits, nib predict/eval apply the softmax"));
  std::map<std::string, std::string> dense_to_flatten = reorder_flattens(g);
  for (const auto& [dense, flatten] : dense_to_flatten)
    out.notes.push_back(str(flatten, " flattens in nib's C, H, W order; ", dense,
                            "'s weights were reordered from Keras' H, W, C order"));

  InputSize in = input_size(g, options, path);
  std::string preprocess = !options.preprocess.empty() ? options.preprocess
                                                       : default_preprocess(g, out.application, out.notes);
  models::Preprocess mode = models::parse_preprocess(preprocess);  // an unknown name fails before any work
  try {
    out.model = std::make_shared<KerasGraph>(g, in.channels, in.image_size, mode);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }

  // Each built layer's weights, reordered for nib.
  NamedTensors weights;
  auto shape_of = [&](const std::string& name) { return out.model->output_shape(name); };
  for (const std::string& name : out.model->layer_names()) {
    const GraphLayer& layer = *g.find(name);
    std::vector<Tensor> keras = file.weights->layer_weights(layer, weight_slots(layer));
    int64_t count = 0;
    for (const Tensor& t : keras) count += t.numel();
    out.keras_params[name] = count;
    std::vector<int64_t> flattened;
    if (auto it = dense_to_flatten.find(name); it != dense_to_flatten.end()) {
      Shape map = shape_of(g.find(it->second)->inputs.at(0));
      if (map.rank() == 4) flattened = {map[1], map[2], map[3]};
    }
    for (auto& [weight, tensor] : nib_weights(layer, keras, *out.model->find(name), flattened, path))
      weights.emplace_back(name + "." + weight, std::move(tensor));
  }
  try {
    load_state_dict(*out.model, weights, /*strict=*/true);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  out.model->eval();

  const Shape& output = shape_of(g.output);
  out.output_shape = keras_shape(output);
  out.spec.name = "keras_graph";
  out.spec.in_channels = in.channels;
  out.spec.image_size = in.image_size;
  out.spec.classes = output.rank() == 2 ? output[1] : 0;
  out.spec.options["preprocess"] = preprocess;
  out.spec.options["source"] = std::filesystem::path(path).filename().string();
  out.spec.graph = g.to_json();
  return out;
}

std::string summary(const ConvertedModel& c) {
  const bool functional = c.model_class != "Sequential";
  const GraphDescription& g = c.model->graph();
  std::string text = str("Model: \"", c.model_name, "\" (", c.model_class, ", ", c.format,
                         c.keras_version.empty() ? "" : ", Keras " + c.keras_version, ")\n");
  auto pad = [](const std::string& s, size_t width) {
    return s.size() < width ? s + std::string(width - s.size(), ' ') : s;
  };
  auto row = [&](const std::string& layer, const std::string& shape, const std::string& params,
                 const std::string& inputs) {
    std::string count = params.size() < 12 ? std::string(12 - params.size(), ' ') + params : params;
    text += pad(layer, 42) + " " + pad(shape, 22) + " " + count + (inputs.empty() ? "" : "  " + inputs) + "\n";
  };
  std::string rule(90, '-');
  row("Layer (type)", "Output Shape", "Param #", functional ? "Connected to" : "");
  text += rule + "\n";
  std::string input_shape = "(None";
  for (int64_t d : g.input_shape) input_shape += ", " + (d < 0 ? std::string("None") : std::to_string(d));
  row(g.input_name + " (InputLayer)", input_shape + ")", "0", "");
  int64_t total = 0;
  for (const std::string& name : c.model->layer_names()) {
    const GraphLayer& layer = *g.find(name);
    std::string inputs;
    for (const auto& in : layer.inputs) inputs += (inputs.empty() ? "" : ", ") + in;
    int64_t params = c.keras_params.count(name) ? c.keras_params.at(name) : 0;
    total += params;
    row(name + " (" + layer.class_name + ")", keras_shape(c.model->output_shape(name)), thousands(params),
        functional ? inputs : "");
  }
  text += rule + "\n";
  text += "Total params: " + thousands(total) + "\n";
  return text;
}

NamedTensors application_weights(const ConvertedModel& c, std::map<std::string, std::string>& metadata) {
  NIB_CHECK(c.application, c.source, ": not a Keras VGG16 or MobileNetV2 (the model is called '", c.model_name,
            "'), so it has no nib architecture to go onto: convert it to a run directory (nib convert ",
            c.source, " RUN_DIR)");
  const Application& app = *c.application;
  const GraphDescription& g = c.model->graph();
  const bool top = g.find("predictions") != nullptr;

  metadata = {{"arch", app.arch}, {"padding", app.padding}, {"preprocess", app.preprocess}, {"format", "pt"},
              {"source", std::filesystem::path(c.source).filename().string()}};
  if (!app.width.empty()) metadata["width"] = app.width;
  if (!top) metadata["features_only"] = "true";
  models::ModelSpec spec{app.arch, 3, c.spec.image_size, top ? c.spec.classes : 1000,
                         {{"padding", app.padding}, {"features_only", top ? "false" : "true"}}, {}};
  if (!app.width.empty()) spec.options["width"] = app.width;
  ModulePtr nib_model;
  try {
    nib_model = models::build_model(spec);
  } catch (const Error& e) {
    fail(c.source, ": nib's ", app.arch, " cannot be built for this file: ", e.what());
  }

  // The graph's tensors under nib's names.
  NamedTensors renamed;
  for (const auto& [name, tensor] : c.model->state_dict()) {
    std::string layer = name.substr(0, name.find('.')), rest = name.substr(name.find('.') + 1);
    auto it = app.modules.find(layer);
    NIB_CHECK(it != app.modules.end(), c.source, ": layer '", layer, "' has weights but is not a layer of Keras' ",
              app.arch, ", so the file does not map onto nib's ", app.arch, " (convert it to a run directory)");
    if (rest == "num_batches_tracked") continue;
    Tensor value = tensor;
    if (rest == "running_var") {
      // Keras' BatchNorms use epsilon 1e-3, nib's (torchvision's) 1e-5: the
      // difference goes into the variance, so var + eps stays what Keras divides by.
      auto* bn = dynamic_cast<BatchNorm2d*>(c.model->find(layer));
      auto* target = dynamic_cast<BatchNorm2d*>(nib_model->find(it->second));
      NIB_CHECK(bn && target, c.source, ": layer '", layer, "' does not map onto a BatchNorm of nib's ", app.arch);
      value = ops::affine(tensor, 1.0f, bn->eps - target->eps);
    }
    renamed.emplace_back(it->second + "." + rest, value);
  }
  models::PretrainedOptions options;
  options.features_only = !top;
  options.image_size = c.spec.image_size;
  models::PretrainedModel net;
  try {
    net = models::build_pretrained(app.arch, renamed, metadata, options);
  } catch (const Error& e) {
    fail(c.source, ": ", e.what());
  }

  // The same random image through both: nib's architecture must reproduce the
  // Keras graph (before any trailing global pooling, which nib's features-only
  // network leaves to its user).
  std::string compared = g.output;
  if (const GraphLayer* last = g.find(g.output);
      last && (last->class_name == "GlobalAveragePooling2D" || last->class_name == "GlobalMaxPooling2D"))
    compared = last->inputs.at(0);
  Generator gen(7);
  Tensor x = Tensor::uniform({1, 3, c.spec.image_size, c.spec.image_size}, gen, 0.0f, 1.0f);
  Tensor expected, got;
  {
    NoGrad no_grad;
    Module* hooked = c.model->find(compared);
    NIB_CHECK(hooked, c.source, ": no layer '", compared, "' to compare");
    hooked->set_output_hook([&](const Tensor& y) { expected = y; });
    (*c.model)(x);
    hooked->set_output_hook(nullptr);
    got = (*net.model)(models::preprocess(x, net.preprocess));
  }
  NIB_CHECK(got.shape() == expected.shape(), c.source, ": nib's ", app.arch, " gives ", got.shape(),
            " where the Keras model gives ", expected.shape());
  std::vector<float> a = got.to_vector(), b = expected.to_vector();
  double worst = 0, scale = 1e-6;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  NIB_CHECK(worst <= 1e-4 * scale, c.source, ": nib's ", app.arch, " does not reproduce the Keras model (largest ",
            "difference ", worst, " for outputs up to ", scale, ")");
  return net.model->state_dict();
}

}  // namespace nib::formats::keras
