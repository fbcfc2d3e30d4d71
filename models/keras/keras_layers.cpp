#include "models/keras/keras_layers.h"

#include <algorithm>
#include <cmath>

#include "ops/ops.h"

namespace nib::models::keras {

namespace {
std::string with_activation(const std::string& layer, const Activation& a) {
  return a.kind == Activation::Kind::Linear ? layer : layer + " + " + a.name();
}
}  // namespace

Tensor keras_order(const Tensor& x) {
  if (x.dim() != 4) return x;
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  if (C == 1 || H * W == 1) return x.reshape({N, H, W, C});
  return ops::to_channels_last(x);
}

Tensor nib_order(const Tensor& x) {
  if (x.dim() != 4) return x;
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  if (C == 1 || H * W == 1) return x.reshape({N, C, H, W});
  return ops::to_channels_first(x);
}

std::string KerasConv2d::describe() const { return with_activation(Conv2d::describe(), activation); }

KerasSeparableConv2d::KerasSeparableConv2d(std::shared_ptr<Conv2d> d, std::shared_ptr<Conv2d> p, Activation a)
    : depthwise(register_module("depthwise", std::move(d))),
      pointwise(register_module("pointwise", std::move(p))),
      activation(a) {}

Tensor KerasSeparableConv2d::forward(const Tensor& x) { return apply(activation, (*pointwise)((*depthwise)(x))); }

std::string KerasSeparableConv2d::describe() const {
  return with_activation("SeparableConv2d(" + depthwise->describe() + ", " + pointwise->describe() + ")", activation);
}

Tensor KerasDense::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 2, describe(), ": expected [N, ", in_features, "], got ", x.shape(),
            " (Dense on a feature map is not supported: put a Flatten or global pooling before it)");
  return apply(activation, Linear::forward(x));
}

std::string KerasDense::describe() const { return with_activation(Linear::describe(), activation); }

KerasPool2d::KerasPool2d(bool max, int64_t kh, int64_t kw, int64_t sh, int64_t sw, bool same)
    : max(max), same(same), kernel_h(kh), kernel_w(kw), stride_h(sh), stride_w(sw) {}

Tensor KerasPool2d::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4, describe(), ": expected [N, C, H, W], got ", x.shape());
  ops::Pool2dOptions options{kernel_h, kernel_w, stride_h, stride_w, {}};
  if (same) {
    auto [top, bottom] = tf_same_padding(x.size(2), kernel_h, stride_h, 1);
    auto [left, right] = tf_same_padding(x.size(3), kernel_w, stride_w, 1);
    options.padding = {top, bottom, left, right};
  }
  return max ? ops::max_pool2d(x, options) : ops::avg_pool2d(x, options, /*count_include_pad=*/false);
}

std::string KerasPool2d::describe() const {
  return str(max ? "MaxPool2d(" : "AvgPool2d(", kernel_h, "x", kernel_w, ", stride=", stride_h, "x", stride_w,
             same ? ", padding=tf_same)" : ")");
}

Tensor KerasGlobalPool::forward(const Tensor& x) {
  NIB_CHECK(x.dim() == 4, describe(), ": expected [N, C, H, W], got ", x.shape());
  Tensor y;
  if (max) {
    ops::Pool2dOptions whole{x.size(2), x.size(3), x.size(2), x.size(3), {}};
    y = ops::max_pool2d(x, whole);
  } else {
    y = ops::global_avg_pool(x);
  }
  return keepdims ? y : y.flatten(1);
}

std::string KerasGlobalPool::describe() const {
  return str(max ? "GlobalMaxPool(" : "GlobalAvgPool(", keepdims ? "keepdims)" : ")");
}

Tensor KerasFlatten::forward(const Tensor& x) { return (channels_first ? x : keras_order(x)).flatten(1); }

std::string KerasFlatten::describe() const {
  return channels_first ? "Flatten(C, H, W order; the next Dense's weights were reordered)"
                        : "Flatten(H, W, C order, as Keras)";
}

Tensor KerasReshape::forward(const Tensor& x) {
  std::vector<int64_t> shape{x.size(0)};
  shape.insert(shape.end(), target.begin(), target.end());
  Tensor y = keras_order(x).reshape(Shape(shape));
  return y.dim() == 4 ? nib_order(y) : y;
}

std::string KerasReshape::describe() const {
  std::string dims;
  for (int64_t d : target) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  return "Reshape(" + dims + ", Keras order)";
}

KerasRescaling::KerasRescaling(std::vector<float> s, std::vector<float> o) : scale(std::move(s)), offset(std::move(o)) {
  NIB_CHECK(!scale.empty() && !offset.empty(), "Rescaling: empty scale or offset");
}

namespace {
// values (one, or one per channel) as a tensor that broadcasts over x's channels.
Tensor per_channel(const std::vector<float>& values, const Tensor& x, const char* layer) {
  if (values.size() == 1) return Tensor::full({1}, values[0], x.device());
  NIB_CHECK(x.dim() >= 2 && x.size(1) == static_cast<int64_t>(values.size()), layer, ": ", values.size(),
            " values for an input of shape ", x.shape());
  Shape shape = x.dim() == 4 ? Shape{1, x.size(1), 1, 1} : Shape{1, x.size(1)};
  return Tensor::from_vector(values, shape, x.device());
}
}  // namespace

Tensor KerasRescaling::forward(const Tensor& x) {
  return x * per_channel(scale, x, "Rescaling") + per_channel(offset, x, "Rescaling");
}

std::string KerasRescaling::describe() const {
  if (scale.size() == 1 && offset.size() == 1) return str("Rescaling(x * ", scale[0], " + ", offset[0], ")");
  return str("Rescaling(per channel, ", std::max(scale.size(), offset.size()), " values)");
}

KerasNormalization::KerasNormalization(int64_t channels) {
  mean = register_buffer("mean", Tensor::zeros({channels}));
  variance = register_buffer("variance", Tensor::ones({channels}));
}

Tensor KerasNormalization::forward(const Tensor& x) {
  std::vector<float> m = mean.to_vector(), divisor = variance.to_vector();
  for (float& v : divisor) v = std::max(std::sqrt(v), 1e-7f);  // Keras: maximum(sqrt(variance), epsilon())
  return (x - per_channel(m, x, "Normalization")) / per_channel(divisor, x, "Normalization");
}

std::string KerasNormalization::describe() const { return str("Normalization(", mean.numel(), " channels)"); }

Tensor KerasMerge::forward_inputs(const std::vector<Tensor>& inputs) {
  NIB_CHECK(!inputs.empty(), describe(), ": no inputs");
  if (concat_dim >= 0) return ops::concat(inputs, concat_dim);
  Tensor sum = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) sum = sum + inputs[i];
  return sum;
}

std::string KerasMerge::describe() const {
  return concat_dim < 0 ? std::string("Add()") : str("Concatenate(dim=", concat_dim, ")");
}

}  // namespace nib::models::keras
