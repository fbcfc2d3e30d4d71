// Conv2d: PyTorch's layer (weight [out, in/groups, kh, kw], optional bias),
// plus TensorFlow's 'SAME' padding mode, whose per-side amounts depend on the
// input size (for stride 2: 0 before, 1 after on even sizes). Pretrained
// TensorFlow/Keras networks need it to reproduce their outputs.
#pragma once

#include "layers/module.h"
#include "ops/ops.h"

namespace nib {

enum class PaddingMode { Explicit, TfSame };

struct Conv2dConfig {
  int64_t in_channels = 1, out_channels = 1;
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride = 1;
  ops::Padding2d padding;                      // used with PaddingMode::Explicit
  PaddingMode padding_mode = PaddingMode::Explicit;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dConfig& config);
  // The common square case: Conv2d(in, out, kernel, stride, padding).
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, int64_t groups = 1,
         bool bias = true);

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  // The padding a forward pass on an input of H×W uses.
  ops::Padding2d padding_for(int64_t H, int64_t W) const;

  Conv2dConfig config;
  Tensor weight, bias;
};

// TensorFlow 'SAME' padding for one dimension: {before, after}.
std::pair<int64_t, int64_t> tf_same_padding(int64_t size, int64_t kernel, int64_t stride, int64_t dilation);

}  // namespace nib
