#include "models/keras/layer_weights.h"

#include <map>

namespace nib::formats::keras {

namespace {

using models::keras::GraphLayer;

bool config_flag(const GraphLayer& layer, const char* key, bool fallback) {
  const json::Value* v = layer.config.is_object() ? layer.config.find(key) : nullptr;
  return v && v->is_bool() ? v->as_bool() : fallback;
}

bool config_has(const GraphLayer& layer, const char* key) {
  const json::Value* v = layer.config.is_object() ? layer.config.find(key) : nullptr;
  return v && !v->is_null();
}

// y = x with its dimensions reordered: y's dimension i is x's dimension perm[i].
Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  const Shape& in = x.shape();
  const int rank = static_cast<int>(in.rank());
  std::vector<int64_t> out_dims(rank), in_strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d) in_strides[d] = in_strides[d + 1] * in[d + 1];
  for (int i = 0; i < rank; ++i) out_dims[i] = in[perm[i]];
  Tensor y = Tensor::empty(Shape(out_dims));
  const float* src = x.data();
  float* dst = y.data();
  std::vector<int64_t> index(rank, 0);  // position in y
  for (int64_t n = 0; n < y.numel(); ++n) {
    int64_t offset = 0;
    for (int i = 0; i < rank; ++i) offset += index[i] * in_strides[perm[i]];
    dst[n] = src[offset];
    for (int i = rank - 1; i >= 0 && ++index[i] == out_dims[i]; --i) index[i] = 0;
  }
  return y;
}

std::string dims(const Shape& s) { return s.str(); }

class Converter {
 public:
  Converter(const GraphLayer& layer, const std::vector<Tensor>& keras, Module& module, const std::string& source)
      : layer_(layer), keras_(keras), source_(source) {
    for (auto& [name, t] : module.state_dict()) nib_[name] = t.shape();
  }
  // The nib shape of the module's tensor `name`.
  const Shape& nib(const std::string& name) const { return nib_.at(name); }
  // Checks Keras weight i has `expected` (Keras' terms) and returns it.
  Tensor weight(size_t i, const char* what, const Shape& expected) const {
    const Tensor& t = keras_.at(i);
    // Keras 2 stores some vectors with leading 1s (Normalization's [1, 1, 1, C]): the same values.
    if (t.shape() != expected && expected.rank() == 1 && t.numel() == expected.numel()) return t.reshape(expected);
    NIB_CHECK(t.shape() == expected, source_, ": layer '", layer_.name, "' (", layer_.class_name, "): ", what,
              " has shape ",
              dims(t.shape()), " in the file, but the layer's config makes it ", dims(expected));
    return t;
  }
  void add(const std::string& name, Tensor t) { out_.emplace_back(name, std::move(t)); }
  NamedTensors take() { return std::move(out_); }

 private:
  const GraphLayer& layer_;
  const std::vector<Tensor>& keras_;
  const std::string& source_;
  std::map<std::string, Shape> nib_;
  NamedTensors out_;
};

// OIHW [out, in, kh, kw] -> HWIO [kh, kw, in, out]
Shape hwio(const Shape& oihw) { return {oihw[2], oihw[3], oihw[1], oihw[0]}; }

void convert_conv(Converter& c, size_t i, const std::string& prefix, bool depthwise, int64_t multiplier) {
  const Shape& w = c.nib(prefix + "weight");
  if (!depthwise) {
    c.add(prefix + "weight", permute(c.weight(i, "kernel", hwio(w)), {3, 2, 0, 1}));
    return;
  }
  // [kh, kw, C, m] -> [C, m, kh, kw] -> [C*m, 1, kh, kw]: output channel c*m + j.
  int64_t channels = w[0] / multiplier;
  Tensor k = c.weight(i, "depthwise kernel", {w[2], w[3], channels, multiplier});
  c.add(prefix + "weight", permute(k, {2, 3, 0, 1}).reshape(w));
}

int64_t depth_multiplier(const GraphLayer& layer) {
  const json::Value* v = layer.config.is_object() ? layer.config.find("depth_multiplier") : nullptr;
  return v && v->is_number() ? v->as_int() : 1;
}

void convert_dense(Converter& c, const std::vector<int64_t>& flattened) {
  const Shape& w = c.nib("weight");  // [out, in]
  Tensor kernel = c.weight(0, "kernel", {w[1], w[0]});
  if (flattened.size() == 3) {
    // Rows in Keras' flatten order (h, w, c) -> nib's (c, h, w).
    int64_t C = flattened[0], H = flattened[1], W = flattened[2];
    kernel = permute(kernel.reshape({H, W, C, w[0]}), {2, 0, 1, 3}).reshape({w[1], w[0]});
  }
  c.add("weight", permute(kernel, {1, 0}));
}

}  // namespace

std::vector<WeightSlot> weight_slots(const GraphLayer& layer) {
  const std::string& cls = layer.class_name;
  bool bias = config_flag(layer, "use_bias", true);
  std::vector<WeightSlot> slots;
  auto with_bias = [&](std::vector<WeightSlot> s) {
    if (bias) s.push_back({{"bias"}});
    return s;
  };
  if (cls == "Conv2D" || cls == "Dense") return with_bias({{{"kernel"}}});
  if (cls == "DepthwiseConv2D") return with_bias({{{"depthwise_kernel", "kernel"}}});
  if (cls == "SeparableConv2D") return with_bias({{{"depthwise_kernel"}}, {{"pointwise_kernel"}}});
  if (cls == "BatchNormalization") {
    if (config_flag(layer, "scale", true)) slots.push_back({{"gamma"}});
    if (config_flag(layer, "center", true)) slots.push_back({{"beta"}});
    slots.push_back({{"moving_mean"}});
    slots.push_back({{"moving_variance"}});
    return slots;
  }
  if (cls == "Normalization" && !config_has(layer, "mean")) return {{{"mean"}}, {{"variance"}}, {{"count"}}};
  return {};
}

NamedTensors nib_weights(const GraphLayer& layer, const std::vector<Tensor>& keras, Module& module,
                         const std::vector<int64_t>& flattened, const std::string& source) {
  Converter c(layer, keras, module, source);
  const std::string& cls = layer.class_name;
  bool bias = config_flag(layer, "use_bias", true);
  size_t next = 0;
  if (cls == "Conv2D" || cls == "DepthwiseConv2D") {
    convert_conv(c, next++, "", cls == "DepthwiseConv2D", depth_multiplier(layer));
    if (bias) c.add("bias", c.weight(next++, "bias", c.nib("bias")));
  } else if (cls == "SeparableConv2D") {
    convert_conv(c, next++, "depthwise.", true, depth_multiplier(layer));
    convert_conv(c, next++, "pointwise.", false, 1);
    if (bias) c.add("pointwise.bias", c.weight(next++, "bias", c.nib("pointwise.bias")));
  } else if (cls == "Dense") {
    convert_dense(c, flattened);
    ++next;
    if (bias) c.add("bias", c.weight(next++, "bias", c.nib("bias")));
  } else if (cls == "BatchNormalization") {
    const Shape& shape = c.nib("weight");
    bool scale = config_flag(layer, "scale", true), center = config_flag(layer, "center", true);
    c.add("weight", scale ? c.weight(next++, "gamma", shape) : Tensor::ones(shape));
    c.add("bias", center ? c.weight(next++, "beta", shape) : Tensor::zeros(shape));
    c.add("running_mean", c.weight(next++, "moving_mean", shape));
    c.add("running_var", c.weight(next++, "moving_variance", shape));
  } else if (cls == "Normalization") {
    const Shape& shape = c.nib("mean");
    if (config_has(layer, "mean")) {
      // Given in the config: a number, or one per channel.
      auto values = [&](const char* key) {
        const json::Value& v = layer.config.at(key);
        std::vector<float> out;
        if (v.is_number()) out.assign(static_cast<size_t>(shape.numel()), static_cast<float>(v.as_number()));
        else
          for (const auto& item : v.as_array()) out.push_back(static_cast<float>(item.as_number()));
        NIB_CHECK(static_cast<int64_t>(out.size()) == shape.numel(), source, ": layer '", layer.name, "': ", key,
                  " has ", out.size(), " values for ", shape.numel(), " channels");
        return Tensor::from_vector(out, shape);
      };
      c.add("mean", values("mean"));
      c.add("variance", values("variance"));
    } else {
      c.add("mean", c.weight(0, "mean", shape));
      c.add("variance", c.weight(1, "variance", shape));
    }
  }
  return c.take();
}

}  // namespace nib::formats::keras
