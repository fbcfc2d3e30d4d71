#include "models/keras/layer_factory.h"

#include <functional>

#include "layers/dropout.h"
#include "layers/shape_layers.h"
#include "models/keras/keras_layers.h"

namespace nib::models::keras {

namespace {

// Reads a layer's Keras config; every error names the layer and its class.
class Config {
 public:
  explicit Config(const GraphLayer& layer) : layer_(layer) {}

  [[noreturn]] void error(const std::string& what) const {
    fail("layer '", layer_.name, "' (", layer_.class_name, "): ", what);
  }
  const json::Value* find(const std::string& key) const {
    const json::Value* v = layer_.config.is_object() ? layer_.config.find(key) : nullptr;
    return v && !v->is_null() ? v : nullptr;
  }
  double number(const std::string& key, double fallback) const {
    const json::Value* v = find(key);
    if (!v) return fallback;
    if (!v->is_number()) error(key + " is " + json::dump(*v) + ", expected a number");
    return v->as_number();
  }
  int64_t integer(const std::string& key, int64_t fallback) const {
    double v = number(key, static_cast<double>(fallback));
    if (v != static_cast<double>(static_cast<int64_t>(v))) error(key + " is not a whole number");
    return static_cast<int64_t>(v);
  }
  // A size that must be given and positive (filters, units).
  int64_t positive(const std::string& key) const {
    int64_t v = integer(key, 0);
    if (v <= 0) error(key + " must be a positive whole number, got " + (find(key) ? json::dump(*find(key)) : "none"));
    return v;
  }
  bool boolean(const std::string& key, bool fallback) const {
    const json::Value* v = find(key);
    if (!v) return fallback;
    if (!v->is_bool()) error(key + " is " + json::dump(*v) + ", expected true or false");
    return v->as_bool();
  }
  std::string text(const std::string& key, const std::string& fallback) const {
    const json::Value* v = find(key);
    if (!v) return fallback;
    if (!v->is_string()) error(key + " is " + json::dump(*v) + ", expected a string");
    return v->as_string();
  }
  // An int or a list of ints ([3, 3] or 3), as Keras stores sizes.
  std::vector<int64_t> integers(const std::string& key) const {
    const json::Value* v = find(key);
    if (!v) error("no " + key + " in its config");
    std::vector<int64_t> out;
    auto add = [&](const json::Value& item) {
      if (!item.is_number() || item.as_number() != static_cast<double>(static_cast<int64_t>(item.as_number())))
        error(key + " is " + json::dump(*v) + ", expected whole numbers");
      out.push_back(static_cast<int64_t>(item.as_number()));
    };
    if (v->is_array()) {
      for (const auto& item : v->as_array()) add(item);
    } else {
      add(*v);
    }
    return out;
  }
  // A 2-D size (kernel, strides, ...): {h, w}.
  std::pair<int64_t, int64_t> pair(const std::string& key, int64_t fallback) const {
    if (!find(key)) return {fallback, fallback};
    std::vector<int64_t> v = integers(key);
    if (v.size() == 1) return {v[0], v[0]};
    if (v.size() != 2 || v[0] <= 0 || v[1] <= 0) error(key + " must be two positive sizes");
    return {v[0], v[1]};
  }
  // nib's Conv2d has one stride and one dilation for both directions.
  int64_t square(const std::string& key, int64_t fallback) const {
    auto [h, w] = pair(key, fallback);
    if (h != w) error(str(key, " ", h, "x", w, ": only equal sizes in both directions are supported"));
    return h;
  }
  Activation activation(const std::string& key = "activation") const {
    const json::Value* v = layer_.config.is_object() ? layer_.config.find(key) : nullptr;
    return parse_activation(v ? *v : json::Value(), layer_.name);
  }
  void require_channels_last() const {
    std::string format = text("data_format", "channels_last");
    if (format != "channels_last") error("data_format " + format + " is not supported (only channels_last)");
  }
  bool same_padding() const {
    std::string padding = text("padding", "valid");
    if (padding != "valid" && padding != "same") error("padding '" + padding + "' is not supported (valid or same)");
    return padding == "same";
  }
  // Keras' axis (negative from the end) on a rank-`rank` Keras tensor, as an index.
  int64_t axis(const json::Value& value, int64_t rank) const {
    int64_t a = 0;
    if (value.is_number()) a = value.as_int();
    else if (value.is_array() && value.size() == 1 && value.at(0).is_number()) a = value.at(0).as_int();
    else error("axis " + json::dump(value) + " is not supported");
    return a < 0 ? a + rank : a;
  }

 private:
  const GraphLayer& layer_;
};

// The nib dimension of Keras axis `a` (0..rank-1) of a Keras tensor: NHWC's
// H, W, C are nib's 2, 3, 1; other ranks have the same order in both.
int64_t nib_dim(int64_t a, int64_t rank) {
  if (rank != 4 || a == 0) return a;
  return a == 3 ? 1 : a + 1;
}

int64_t channels_of(const Config& c, const Shape& shape) {
  if (shape.rank() != 4) c.error(str("expects a feature map [N, H, W, C], got nib shape ", shape));
  return shape[1];
}

// A Keras convolution layer's strides, dilation_rate and padding.
Conv2dOptions conv_options(const Config& c, int64_t groups) {
  c.require_channels_last();
  Conv2dOptions o;
  o.stride_h = o.stride_w = c.square("strides", 1);
  o.dilation_h = o.dilation_w = c.square("dilation_rate", 1);
  if (o.stride_h > 1 && o.dilation_h > 1) c.error("strides and dilation_rate both above 1 (Keras does not allow it)");
  o.groups = groups;
  if (c.same_padding()) o.padding_mode = PaddingMode::TfSame;
  return o;
}

// Conv2D and DepthwiseConv2D: kernel_size and the options above.
ModulePtr keras_conv(const Config& c, int64_t in, int64_t out, int64_t groups, bool bias) {
  c.require_channels_last();
  auto [kh, kw] = c.pair("kernel_size", 1);
  Conv2dOptions options = conv_options(c, groups);
  return std::make_shared<KerasConv2d>(in, out, kh, kw, options, bias, c.activation());
}

using Builder = std::function<ModulePtr(const Config&, const std::vector<Shape>&)>;

ModulePtr conv2d(const Config& c, const std::vector<Shape>& in) {
  int64_t channels = channels_of(c, in[0]), groups = c.integer("groups", 1);
  if (groups < 1 || channels % groups != 0) c.error(str("groups=", groups, " does not divide ", channels, " channels"));
  return keras_conv(c, channels, c.positive("filters"), groups, c.boolean("use_bias", true));
}

int64_t depth_multiplier(const Config& c) { return c.find("depth_multiplier") ? c.positive("depth_multiplier") : 1; }

ModulePtr depthwise_conv2d(const Config& c, const std::vector<Shape>& in) {
  int64_t channels = channels_of(c, in[0]), multiplier = depth_multiplier(c);
  return keras_conv(c, channels, channels * multiplier, channels, c.boolean("use_bias", true));
}

ModulePtr separable_conv2d(const Config& c, const std::vector<Shape>& in) {
  int64_t channels = channels_of(c, in[0]), multiplier = depth_multiplier(c);
  c.require_channels_last();
  auto [kh, kw] = c.pair("kernel_size", 1);
  Conv2dOptions options = conv_options(c, channels);
  auto depthwise = std::make_shared<Conv2d>(channels, channels * multiplier, kh, kw, options, /*bias=*/false);
  auto pointwise = std::make_shared<Conv2d>(channels * multiplier, c.positive("filters"), 1, 1, Conv2dOptions{},
                                            c.boolean("use_bias", true));
  return std::make_shared<KerasSeparableConv2d>(depthwise, pointwise, c.activation());
}

ModulePtr dense(const Config& c, const std::vector<Shape>& in) {
  if (in[0].rank() != 2)
    c.error(str("Dense on a ", in[0].rank(), "-D input (nib shape ", in[0],
                ") is not supported: only on vectors (after Flatten or global pooling)"));
  return std::make_shared<KerasDense>(in[0][1], c.positive("units"), c.boolean("use_bias", true), c.activation());
}

ModulePtr batch_normalization(const Config& c, const std::vector<Shape>& in) {
  int64_t rank = in[0].rank();
  const json::Value* axis = c.find("axis");
  if (axis && c.axis(*axis, rank) != rank - 1) c.error("only axis -1 (the channels) is supported");
  if (rank != 2 && rank != 4) c.error(str("expects [N, C] or [N, H, W, C], got nib shape ", in[0]));
  // Keras' momentum weighs the running value, PyTorch's (nib's) the new batch.
  float momentum = 1.0f - static_cast<float>(c.number("momentum", 0.99));
  return std::make_shared<BatchNorm2d>(in[0][1], static_cast<float>(c.number("epsilon", 1e-3)), momentum);
}

ModulePtr activation_layer(const Config& c, const std::vector<Shape>&) {
  return std::make_shared<KerasActivationLayer>(c.activation());
}

ModulePtr relu_layer(const Config& c, const std::vector<Shape>&) {
  double max_value = c.number("max_value", -1), slope = c.number("negative_slope", 0);
  if (c.number("threshold", 0) != 0) c.error("a threshold other than 0 is not supported");
  using Kind = Activation::Kind;
  if (max_value < 0 && slope == 0) return std::make_shared<KerasActivationLayer>(Activation{Kind::ReLU});
  if (max_value < 0) return std::make_shared<KerasActivationLayer>(Activation{Kind::LeakyReLU, float(slope)});
  if (max_value == 6 && slope == 0) return std::make_shared<KerasActivationLayer>(Activation{Kind::ReLU6});
  c.error(str("max_value=", max_value, " with negative_slope=", slope, " is not supported (max_value none or 6)"));
}

ModulePtr leaky_relu_layer(const Config& c, const std::vector<Shape>&) {
  // Keras 2 calls the slope alpha (default 0.3); Keras 3 negative_slope.
  double slope = c.number("negative_slope", c.number("alpha", 0.3));
  return std::make_shared<KerasActivationLayer>(Activation{Activation::Kind::LeakyReLU, static_cast<float>(slope)});
}

ModulePtr elu_layer(const Config& c, const std::vector<Shape>&) {
  return std::make_shared<KerasActivationLayer>(
      Activation{Activation::Kind::ELU, static_cast<float>(c.number("alpha", 1.0))});
}

ModulePtr softmax_layer(const Config& c, const std::vector<Shape>& in) {
  const json::Value* axis = c.find("axis");
  if (axis && c.axis(*axis, in[0].rank()) != in[0].rank() - 1) c.error("only axis -1 is supported");
  return std::make_shared<KerasActivationLayer>(Activation{Activation::Kind::Softmax});
}

ModulePtr dropout(const Config& c, const std::vector<Shape>&) {
  if (c.find("noise_shape")) c.error("noise_shape is not supported");
  double rate = c.number("rate", 0.5);
  if (rate < 0 || rate >= 1) c.error(str("rate ", rate, " is not in [0, 1)"));
  return std::make_shared<Dropout>(static_cast<float>(rate));
}

ModulePtr pooling(const Config& c, bool max) {
  c.require_channels_last();
  auto [kh, kw] = c.pair("pool_size", 2);
  auto [sh, sw] = c.find("strides") ? c.pair("strides", 1) : std::make_pair(kh, kw);  // strides None = pool_size
  return std::make_shared<KerasPool2d>(max, kh, kw, sh, sw, c.same_padding());
}

ModulePtr global_pooling(const Config& c, const std::vector<Shape>& in, bool max) {
  c.require_channels_last();
  channels_of(c, in[0]);
  return std::make_shared<KerasGlobalPool>(max, c.boolean("keepdims", false));
}

ModulePtr flatten(const Config& c, const std::vector<Shape>&) {
  // "nib_order": written by the converter when it reordered the next Dense (keras_layers.h).
  return std::make_shared<KerasFlatten>(c.text("nib_order", "keras") == "channels_first");
}

ModulePtr reshape(const Config& c, const std::vector<Shape>&) {
  return std::make_shared<KerasReshape>(c.integers("target_shape"));
}

ModulePtr zero_padding(const Config& c, const std::vector<Shape>&) {
  c.require_channels_last();
  const json::Value* p = c.find("padding");
  if (!p) c.error("no padding in its config");
  // 1, [1, 2] (rows, columns) or [[top, bottom], [left, right]].
  ops::Padding2d pad;
  if (p->is_array() && p->size() == 2 && p->at(0).is_array()) {
    const json::Value &rows = p->at(0), &cols = p->at(1);
    if (rows.size() != 2 || cols.size() != 2) c.error("padding " + json::dump(*p) + " is malformed");
    pad = {rows.at(0).as_int(), rows.at(1).as_int(), cols.at(0).as_int(), cols.at(1).as_int()};
  } else {
    auto [h, w] = c.pair("padding", 0);
    pad = {h, h, w, w};
  }
  return std::make_shared<ZeroPad2d>(pad);
}

std::vector<float> floats(const Config& c, const std::string& key, double fallback) {
  const json::Value* v = c.find(key);
  if (!v) return {static_cast<float>(fallback)};
  std::vector<float> out;
  if (v->is_number()) out.push_back(static_cast<float>(v->as_number()));
  else if (v->is_array())
    for (const auto& item : v->as_array()) out.push_back(static_cast<float>(item.as_number()));
  else c.error(key + " is " + json::dump(*v) + ", expected a number or a list of numbers");
  return out;
}

ModulePtr rescaling(const Config& c, const std::vector<Shape>&) {
  return std::make_shared<KerasRescaling>(floats(c, "scale", 1.0), floats(c, "offset", 0.0));
}

ModulePtr normalization(const Config& c, const std::vector<Shape>& in) {
  if (c.boolean("invert", false)) c.error("invert=true is not supported");
  const json::Value* axis = c.find("axis");
  int64_t rank = in[0].rank();
  if (axis && c.axis(*axis, rank) != rank - 1) c.error("only axis -1 (the channels) is supported");
  return std::make_shared<KerasNormalization>(in[0][1]);
}

ModulePtr merge(const Config& c, const std::vector<Shape>& in, bool concatenate) {
  if (in.size() < 2) c.error(str("takes at least two inputs, got ", in.size()));
  if (!concatenate) return std::make_shared<KerasMerge>(-1);
  int64_t rank = in[0].rank();
  const json::Value* axis = c.find("axis");
  int64_t a = c.axis(axis ? *axis : json::Value(-1), rank);
  if (a <= 0 || a >= rank) c.error(str("axis ", a, " does not fit a rank-", rank, " input"));
  return std::make_shared<KerasMerge>(nib_dim(a, rank));
}

// Every supported class, in the order the error message lists them.
const std::vector<std::pair<std::string, Builder>>& builders() {
  using S = std::vector<Shape>;
  static const std::vector<std::pair<std::string, Builder>> all = {
      {"Conv2D", conv2d},
      {"DepthwiseConv2D", depthwise_conv2d},
      {"SeparableConv2D", separable_conv2d},
      {"MaxPooling2D", [](const Config& c, const S&) { return pooling(c, true); }},
      {"AveragePooling2D", [](const Config& c, const S&) { return pooling(c, false); }},
      {"GlobalAveragePooling2D", [](const Config& c, const S& in) { return global_pooling(c, in, false); }},
      {"GlobalMaxPooling2D", [](const Config& c, const S& in) { return global_pooling(c, in, true); }},
      {"Flatten", flatten},
      {"Reshape", reshape},
      {"Dense", dense},
      {"Dropout", dropout},
      {"BatchNormalization", batch_normalization},
      {"Activation", activation_layer},
      {"ReLU", relu_layer},
      {"LeakyReLU", leaky_relu_layer},
      {"ELU", elu_layer},
      {"Softmax", softmax_layer},
      {"Add", [](const Config& c, const S& in) { return merge(c, in, false); }},
      {"Concatenate", [](const Config& c, const S& in) { return merge(c, in, true); }},
      {"ZeroPadding2D", zero_padding},
      {"Rescaling", rescaling},
      {"Normalization", normalization},
  };
  return all;
}

}  // namespace

const char* supported_layers() {
  static const std::string names = [] {
    std::string out = "InputLayer";
    for (const auto& [name, builder] : builders()) out += ", " + name;
    return out;
  }();
  return names.c_str();
}

ModulePtr make_layer(const GraphLayer& layer, const std::vector<Shape>& input_shapes) {
  Config config(layer);
  if (input_shapes.empty()) config.error("has no inputs");
  for (const auto& [name, builder] : builders())
    if (name == layer.class_name) return builder(config, input_shapes);
  fail("layer '", layer.name, "' is a ", layer.class_name, ", which nib cannot convert (supported: ",
       supported_layers(), ")");
}

}  // namespace nib::models::keras
