#include "models/keras/keras_graph.h"

#include <set>

#include "models/keras/keras_layers.h"
#include "models/keras/layer_factory.h"
#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::models::keras {

json::Value GraphDescription::to_json() const {
  json::Value v = json::Value::object();
  json::Value shape = json::Value::array();
  for (int64_t d : input_shape) shape.push_back(d);
  v["input"]["name"] = input_name;
  v["input"]["shape"] = shape;
  json::Value list = json::Value::array();
  for (const GraphLayer& layer : layers) {
    json::Value l = json::Value::object();
    l["name"] = layer.name;
    l["class_name"] = layer.class_name;
    json::Value inputs = json::Value::array();
    for (const auto& in : layer.inputs) inputs.push_back(in);
    l["inputs"] = inputs;
    l["config"] = layer.config.is_null() ? json::Value::object() : layer.config;
    list.push_back(l);
  }
  v["layers"] = list;
  v["output"] = output;
  return v;
}

GraphDescription GraphDescription::from_json(const json::Value& v) {
  GraphDescription g;
  try {
    g.input_name = v.at("input").at("name").as_string();
    for (const auto& d : v.at("input").at("shape").as_array()) g.input_shape.push_back(d.as_int());
    for (const auto& l : v.at("layers").as_array()) {
      GraphLayer layer;
      layer.name = l.at("name").as_string();
      layer.class_name = l.at("class_name").as_string();
      for (const auto& in : l.at("inputs").as_array()) layer.inputs.push_back(in.as_string());
      layer.config = l.at("config");
      g.layers.push_back(std::move(layer));
    }
    g.output = v.at("output").as_string();
  } catch (const Error& e) {
    fail("keras_graph: malformed layer graph: ", e.what());
  }
  return g;
}

const GraphLayer* GraphDescription::find(const std::string& name) const {
  for (const GraphLayer& layer : layers)
    if (layer.name == name) return &layer;
  return nullptr;
}

std::string GraphDescription::feature_layer() const {
  static const std::set<std::string> after_classifier = {"Dropout", "Activation", "Softmax", "ReLU", "LeakyReLU",
                                                          "ELU"};
  std::string name = output;
  for (const GraphLayer* layer = find(name); layer; layer = find(name)) {
    if (layer->class_name == "Dense") return layer->inputs.at(0);
    if (!after_classifier.count(layer->class_name) || layer->inputs.size() != 1) break;
    name = layer->inputs[0];
  }
  const GraphLayer* last = find(output);
  fail("the model ends in ", last ? last->class_name : "its input", " '", output,
       "', not in a Dense classifier, so it has no features layer before one");
}

KerasGraph::KerasGraph(GraphDescription graph, int64_t in_channels, int64_t image_size, Preprocess preprocess,
                       bool features_only)
    : graph_(std::move(graph)), in_channels_(in_channels), image_size_(image_size), preprocess_(preprocess) {
  output_ = features_only ? graph_.feature_layer() : graph_.output;

  // Only the layers the output depends on are built (features_only drops the classifier).
  std::set<std::string> needed{output_};
  for (auto it = graph_.layers.rbegin(); it != graph_.layers.rend(); ++it)
    if (needed.count(it->name)) needed.insert(it->inputs.begin(), it->inputs.end());
  NIB_CHECK(output_ == graph_.input_name || graph_.find(output_), "keras_graph: no layer '", output_,
            "' (the model's output)");

  // Each layer is built for the shapes its inputs have: one image of zeros
  // runs through the layers as they are made.
  NoGrad no_grad;
  std::map<std::string, Tensor> values{{graph_.input_name, input_tensor(Tensor::zeros({1, in_channels, image_size,
                                                                                      image_size}))}};
  shapes_[graph_.input_name] = values[graph_.input_name].shape();
  for (const GraphLayer& layer : graph_.layers) {
    if (!needed.count(layer.name)) continue;
    NIB_CHECK(layer.name.find('.') == std::string::npos && !layer.name.empty(), "layer '", layer.name,
              "': nib needs layer names without dots");
    NIB_CHECK(!values.count(layer.name), "two layers are called '", layer.name, "'");
    std::vector<Tensor> inputs;
    std::vector<Shape> shapes;
    for (const std::string& in : layer.inputs) {
      auto it = values.find(in);
      NIB_CHECK(it != values.end(), "layer '", layer.name, "' takes '", in,
                "', which is not the input or an earlier layer");
      inputs.push_back(it->second);
      shapes.push_back(it->second.shape());
    }
    ModulePtr module = make_layer(layer, shapes);
    register_module(layer.name, module);
    module->eval();  // the probe must not update BatchNorm statistics
    try {
      values[layer.name] = (*module)(inputs);
    } catch (const Error& e) {
      fail("layer '", layer.name, "' (", layer.class_name, "): ", e.what());
    }
    module->train(true);
    shapes_[layer.name] = values[layer.name].shape();
    modules_[layer.name] = module.get();
    inputs_[layer.name] = layer.inputs;
    order_.push_back(layer.name);
  }
}

Tensor KerasGraph::input_tensor(const Tensor& images) const {
  NIB_CHECK(images.dim() == 4 && images.size(1) == in_channels_, "keras_graph: expected images [N, ", in_channels_,
            ", H, W], got ", images.shape());
  Tensor x = models::preprocess(images, preprocess_);
  // (H, W): Keras' grayscale images without a channel axis.
  if (graph_.input_shape.size() == 2) return x.reshape({x.size(0), x.size(2), x.size(3)});
  if (graph_.input_shape.size() != 1) return x;
  // A vector input: the image as Keras code flattens one (H, W, C order).
  Tensor flat = keras_order(x).flatten(1);
  NIB_CHECK(flat.size(1) == graph_.input_shape[0], "keras_graph: the model takes vectors of ",
            graph_.input_shape[0], " values, got images ", images.shape());
  return flat;
}

Tensor KerasGraph::forward(const Tensor& images) {
  std::map<std::string, Tensor> values{{graph_.input_name, input_tensor(images)}};
  for (const std::string& name : order_) {
    std::vector<Tensor> inputs;
    for (const std::string& in : inputs_.at(name)) inputs.push_back(values.at(in));
    values[name] = (*modules_.at(name))(inputs);
  }
  return values.at(output_);
}

std::string KerasGraph::describe() const {
  return str("KerasGraph(", order_.size(), " layers, input ", in_channels_, "x", image_size_, "x", image_size_,
             ", preprocess=", preprocess_name(preprocess_), output_ == graph_.output ? "" : ", features only", ")");
}

json::Value example_graph() {
  GraphDescription g;
  g.input_name = "input_layer";
  g.input_shape = {28, 28, 1};
  auto layer = [&](const std::string& name, const std::string& cls, const std::string& input, json::Value config) {
    g.layers.push_back({name, cls, {input}, std::move(config)});
  };
  json::Value dense = json::Value::object(), out = json::Value::object(), flatten = json::Value::object();
  dense["units"] = 128;
  dense["activation"] = "relu";
  out["units"] = 10;
  layer("flatten", "Flatten", "input_layer", flatten);
  layer("dense", "Dense", "flatten", dense);
  layer("dense_1", "Dense", "dense", out);
  g.output = "dense_1";
  return g.to_json();
}

}  // namespace nib::models::keras
