// The nib modules that Keras layers become in a KerasGraph (keras_graph.h).
//
// Each computes what its Keras layer computes, in nib's NCHW layout:
//   - layers that only look at channels (Dense on vectors, BatchNormalization,
//     activations, Rescaling, Normalization, Add) need nothing special;
//   - convolutions and pooling take Keras' padding: "valid", or "same" with
//     TensorFlow's split (the odd pixel after), worked out from each input's size;
//   - layers whose meaning depends on the memory order (Flatten, Reshape,
//     Concatenate's axis, softmax over channels) translate it, transposing
//     to Keras' NHWC order where they must.
// Weights use PyTorch's layouts and names ("weight" [out, in, kh, kw],
// "bias"); models/keras/ converts Keras' kernels to them.
#pragma once

#include <vector>

#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "models/keras/keras_activation.h"

namespace nib::models::keras {

// Conv2D and DepthwiseConv2D (groups = channels) with Keras' fused activation.
class KerasConv2d : public Conv2d {
 public:
  KerasConv2d(int64_t in, int64_t out, int64_t kernel_h, int64_t kernel_w, const Conv2dOptions& options, bool bias,
              Activation activation)
      : Conv2d(in, out, kernel_h, kernel_w, options, bias), activation(activation) {}
  Tensor forward(const Tensor& x) override { return apply(activation, Conv2d::forward(x)); }
  std::string describe() const override;
  Activation activation;
};

// SeparableConv2D: a depthwise conv (stride, dilation and padding are its),
// then a 1x1 conv with the bias, then the activation.
class KerasSeparableConv2d : public Module {
 public:
  KerasSeparableConv2d(std::shared_ptr<Conv2d> depthwise, std::shared_ptr<Conv2d> pointwise, Activation activation);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::shared_ptr<Conv2d> depthwise, pointwise;
  Activation activation;
};

// Dense on [N, features] with its fused activation.
class KerasDense : public Linear {
 public:
  KerasDense(int64_t in, int64_t out, bool bias, Activation activation)
      : Linear(in, out, bias), activation(activation) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Activation activation;
};

// Activation, ReLU, LeakyReLU, ELU and Softmax layers.
class KerasActivationLayer : public Module {
 public:
  explicit KerasActivationLayer(Activation activation) : activation(activation) {}
  Tensor forward(const Tensor& x) override { return apply(activation, x); }
  std::string describe() const override { return "Activation(" + activation.name() + ")"; }
  Activation activation;
};

// MaxPooling2D / AveragePooling2D; "same" average pooling leaves the padding
// out of each window's count, as TensorFlow does.
class KerasPool2d : public Module {
 public:
  KerasPool2d(bool max, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, bool same);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  bool max, same;
  int64_t kernel_h, kernel_w, stride_h, stride_w;
};

// GlobalAveragePooling2D / GlobalMaxPooling2D: [N, C, H, W] -> [N, C]
// ([N, C, 1, 1] with keepdims).
class KerasGlobalPool : public Module {
 public:
  KerasGlobalPool(bool max, bool keepdims) : max(max), keepdims(keepdims) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  bool max, keepdims;
};

// Flatten. Keras flattens in H, W, C order. When the converter has reordered
// the next Dense's weights to nib's C, H, W order (the usual case), the
// layer flattens nib's tensor as it is: channels_first = true.
class KerasFlatten : public Module {
 public:
  explicit KerasFlatten(bool channels_first) : channels_first(channels_first) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  bool channels_first;
};

// Reshape to Keras' target shape (without the batch), in Keras' order: a
// feature map goes to NHWC first, a 3-D target comes back to NCHW.
class KerasReshape : public Module {
 public:
  explicit KerasReshape(std::vector<int64_t> target) : target(std::move(target)) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::vector<int64_t> target;
};

// Rescaling: x * scale + offset, each a scalar or one value per channel.
class KerasRescaling : public Module {
 public:
  KerasRescaling(std::vector<float> scale, std::vector<float> offset);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::vector<float> scale, offset;
};

// Normalization: (x - mean) / max(sqrt(variance), 1e-7) per channel (or per
// feature of a vector), with mean and variance as buffers.
class KerasNormalization : public Module {
 public:
  explicit KerasNormalization(int64_t channels);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor mean, variance;
};

// Add and Concatenate: several inputs.
class KerasMerge : public Module {
 public:
  // concat_dim < 0: Add; otherwise Concatenate along that (nib) dimension.
  explicit KerasMerge(int64_t concat_dim) : concat_dim(concat_dim) {}
  Tensor forward(const Tensor& x) override { return forward_inputs({x}); }
  Tensor forward_inputs(const std::vector<Tensor>& inputs) override;
  std::string describe() const override;
  int64_t concat_dim;
};

// [N, C, H, W] in Keras' order [N, H, W, C] and back; a reshape (no copy)
// when the two orders agree (1x1 maps, one channel).
Tensor keras_order(const Tensor& x);
Tensor nib_order(const Tensor& x);

}  // namespace nib::models::keras
