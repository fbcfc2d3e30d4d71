#include "models/torchvision_common.h"

namespace nib::models {

PaddingStyle parse_padding_style(const std::string& text) {
  if (text == "torch" || text == "symmetric") return PaddingStyle::Torch;
  if (text == "tf_same" || text == "same" || text == "tf") return PaddingStyle::TfSame;
  fail("unknown padding '", text, "' (expected torch or tf_same)");
}

const char* padding_style_name(PaddingStyle style) { return style == PaddingStyle::TfSame ? "tf_same" : "torch"; }

std::shared_ptr<Conv2d> make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, bool bias,
                                  PaddingStyle padding) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.groups = groups;
  if (padding == PaddingStyle::TfSame)
    o.padding_mode = PaddingMode::TfSame;
  else
    o.padding = Padding2d::same((kernel - 1) / 2);
  return std::make_shared<Conv2d>(in, out, kernel, kernel, o, bias);
}

}  // namespace nib::models
