#include "models/keras/model_config.h"

#include <set>

namespace nib::formats::keras {

namespace {

using models::keras::GraphLayer;

// An input shape as Keras writes it, with the batch ([null, 28, 28, 1]),
// without it: {28, 28, 1}; unknown sizes are -1.
std::vector<int64_t> shape_without_batch(const json::Value& shape) {
  std::vector<int64_t> dims;
  const json::Array& all = shape.as_array();
  for (size_t i = 1; i < all.size(); ++i) dims.push_back(all[i].is_null() ? -1 : all[i].as_int());
  return dims;
}

// The input shape a layer config declares (InputLayer, or the first layer
// of a Sequential model), or empty.
std::vector<int64_t> declared_input_shape(const json::Value& config) {
  for (const char* key : {"batch_input_shape", "batch_shape"})
    if (const json::Value* v = config.find(key); v && v->is_array()) return shape_without_batch(*v);
  return {};
}

bool is_model(const std::string& class_name) {
  return class_name == "Sequential" || class_name == "Functional" || class_name == "Model";
}

// One [name, node_index, tensor_index] reference to a layer's output.
struct TensorRef {
  std::string layer;
  int64_t node = 0, tensor = 0;
};

// Every Keras tensor in a Keras 3 node's args, in order (Add takes a list).
void collect_keras_tensors(const json::Value& v, std::vector<TensorRef>& out) {
  if (v.is_array()) {
    for (const auto& item : v.as_array()) collect_keras_tensors(item, out);
  } else if (v.is_object()) {
    const json::Value* cls = v.find("class_name");
    if (cls && cls->is_string() && cls->as_string() == "__keras_tensor__") {
      const json::Value& history = v.at("config").at("keras_history");
      out.push_back({history.at(0).as_string(), history.at(1).as_int(), history.at(2).as_int()});
    }
  }
}

std::vector<TensorRef> node_inputs(const json::Value& node) {
  std::vector<TensorRef> refs;
  if (node.is_array()) {  // Keras 2: [[name, node_index, tensor_index, kwargs], ...]
    for (const auto& ref : node.as_array())
      refs.push_back({ref.at(0).as_string(), ref.at(1).as_int(), ref.at(2).as_int()});
  } else {  // Keras 3: {"args": [...], "kwargs": {...}}
    collect_keras_tensors(node.at("args"), refs);
  }
  return refs;
}

// input_layers / output_layers: [["name", 0, 0]] or, in Keras 3 for a single
// tensor, ["name", 0, 0].
std::vector<TensorRef> endpoint_refs(const json::Value& v) {
  std::vector<TensorRef> refs;
  const json::Array& items = v.as_array();
  if (!items.empty() && items[0].is_string())
    return {{items[0].as_string(), items.at(1).as_int(), items.at(2).as_int()}};
  for (const auto& ref : items) refs.push_back({ref.at(0).as_string(), ref.at(1).as_int(), ref.at(2).as_int()});
  return refs;
}

std::string layer_name(const json::Value& layer) {
  if (const json::Value* n = layer.find("name"); n && n->is_string()) return n->as_string();
  return layer.at("config").at("name").as_string();
}

void check_plain_layer(const std::string& source, const std::string& class_name, const std::string& name) {
  NIB_CHECK(!is_model(class_name), source, ": layer '", name, "' is a whole ", class_name,
            " model nested in this one, which nib cannot convert yet (save the model with its layers "
            "directly in it, e.g. by calling the base model on the Input rather than adding it as a layer)");
}

ModelConfig parse_sequential(const json::Value& root, const std::string& source) {
  ModelConfig m;
  const json::Value& config = root.at("config");
  // Very old Keras 2 saved a Sequential model's config as the list of layers.
  const json::Value& layers = config.is_array() ? config : config.at("layers");
  m.name = config.is_object() && config.find("name") ? config.at("name").as_string() : "sequential";
  m.graph.input_name = "input";
  std::string previous;
  for (const auto& layer : layers.as_array()) {
    std::string class_name = layer.at("class_name").as_string();
    const json::Value& layer_config = layer.at("config");
    std::string name = layer_name(layer);
    if (class_name == "InputLayer") {
      NIB_CHECK(previous.empty(), source, ": InputLayer '", name, "' is not the first layer");
      m.graph.input_name = name;
      m.graph.input_shape = declared_input_shape(layer_config);
      continue;
    }
    check_plain_layer(source, class_name, name);
    if (previous.empty() && m.graph.input_shape.empty()) m.graph.input_shape = declared_input_shape(layer_config);
    m.graph.layers.push_back({name, class_name, {previous.empty() ? m.graph.input_name : previous}, layer_config});
    previous = name;
  }
  if (m.graph.input_shape.empty() && config.is_object())
    if (const json::Value* s = config.find("build_input_shape"); s && s->is_array())
      m.graph.input_shape = shape_without_batch(*s);
  if (m.graph.input_shape.empty())
    if (const json::Value* b = root.find("build_config"); b && b->find("input_shape"))
      m.graph.input_shape = shape_without_batch(b->at("input_shape"));
  NIB_CHECK(!m.graph.layers.empty(), source, ": the Sequential model has no layers");
  m.graph.output = previous;
  return m;
}

ModelConfig parse_functional(const json::Value& root, const std::string& source) {
  ModelConfig m;
  const json::Value& config = root.at("config");
  m.name = config.find("name") ? config.at("name").as_string() : "model";
  std::vector<TensorRef> inputs = endpoint_refs(config.at("input_layers"));
  std::vector<TensorRef> outputs = endpoint_refs(config.at("output_layers"));
  NIB_CHECK(inputs.size() == 1, source, ": the model has ", inputs.size(), " inputs; nib converts models with one");
  NIB_CHECK(outputs.size() == 1, source, ": the model has ", outputs.size(), " outputs; nib converts models with one");
  m.graph.input_name = inputs[0].layer;
  m.graph.output = outputs[0].layer;
  NIB_CHECK(outputs[0].tensor == 0 && outputs[0].node == 0, source, ": the output is not a plain layer output");

  for (const auto& layer : config.at("layers").as_array()) {
    std::string class_name = layer.at("class_name").as_string();
    std::string name = layer_name(layer);
    const json::Value& layer_config = layer.at("config");
    if (class_name == "InputLayer") {
      NIB_CHECK(name == m.graph.input_name, source, ": InputLayer '", name, "' is not the model's input '",
                m.graph.input_name, "'");
      m.graph.input_shape = declared_input_shape(layer_config);
      continue;
    }
    check_plain_layer(source, class_name, name);
    const json::Array& nodes = layer.at("inbound_nodes").as_array();
    NIB_CHECK(nodes.size() == 1, source, ": layer '", name, "' is called ", nodes.size(),
              " times in the model; nib converts layers used once");
    GraphLayer g{name, class_name, {}, layer_config};
    for (const TensorRef& ref : node_inputs(nodes[0])) {
      NIB_CHECK(ref.node == 0 && ref.tensor == 0, source, ": layer '", name, "' takes output ", ref.tensor,
                " of call ", ref.node, " of '", ref.layer, "'; nib converts layers with one output, used once");
      g.inputs.push_back(ref.layer);
    }
    NIB_CHECK(!g.inputs.empty(), source, ": layer '", name, "' has no inputs");
    m.graph.layers.push_back(std::move(g));
  }
  return m;
}

// Keras lists a Functional model's layers in the order it built them, which
// is a topological order; older files may not be, so this sorts stably.
void sort_topologically(ModelConfig& m, const std::string& source) {
  std::set<std::string> done{m.graph.input_name};
  std::vector<GraphLayer> sorted, pending = m.graph.layers;
  while (!pending.empty()) {
    std::vector<GraphLayer> later;
    for (auto& layer : pending) {
      bool ready = true;
      for (const auto& in : layer.inputs) ready = ready && done.count(in);
      if (ready) {
        done.insert(layer.name);
        sorted.push_back(std::move(layer));
      } else {
        later.push_back(std::move(layer));
      }
    }
    NIB_CHECK(later.size() < pending.size(), source, ": layer '", later[0].name,
              "' takes inputs no layer produces (or the graph has a cycle)");
    pending = std::move(later);
  }
  m.graph.layers = std::move(sorted);
}

}  // namespace

ModelConfig parse_model_config(const json::Value& root, const std::string& source) {
  ModelConfig m;
  try {
    m.class_name = root.at("class_name").as_string();
    if (m.class_name == "Sequential") m = parse_sequential(root, source);
    else if (m.class_name == "Functional" || m.class_name == "Model") m = parse_functional(root, source);
    else fail(source, ": the model is a ", m.class_name, "; nib converts Sequential and Functional models "
              "(a subclassed model has no saved architecture)");
    m.class_name = root.at("class_name").as_string();
  } catch (const Error& e) {
    std::string what = e.what();
    if (what.rfind(source, 0) == 0) throw;
    fail(source, ": malformed model config: ", what);
  }
  sort_topologically(m, source);
  if (m.graph.find(m.graph.output) == nullptr)
    NIB_CHECK(m.graph.output == m.graph.input_name, source, ": the output layer '", m.graph.output,
              "' is not in the model");
  return m;
}

}  // namespace nib::formats::keras
