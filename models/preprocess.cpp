#include "models/preprocess.h"

#include <algorithm>

#include "ops/ops.h"

namespace nib::models {

Preprocess parse_preprocess(const std::string& name) {
  if (name == "none") return Preprocess::None;
  if (name == "torch") return Preprocess::Torch;
  if (name == "tf") return Preprocess::Tf;
  if (name == "caffe") return Preprocess::Caffe;
  if (name == "raw") return Preprocess::Raw;
  fail("unknown preprocessing '", name, "' (expected torch, tf, caffe, raw or none)");
}

const char* preprocess_name(Preprocess mode) {
  switch (mode) {
    case Preprocess::Torch: return "torch";
    case Preprocess::Tf: return "tf";
    case Preprocess::Caffe: return "caffe";
    case Preprocess::Raw: return "raw";
    default: return "none";
  }
}

Tensor preprocess(const Tensor& images, Preprocess mode) {
  if (mode == Preprocess::None) return images;
  if (mode == Preprocess::Tf) return ops::affine(images, 2.0f, -1.0f);
  if (mode == Preprocess::Raw) return ops::scale(images, 255.0f);
  NIB_CHECK(images.dim() == 4 && images.size(1) == 3, "preprocess ", preprocess_name(mode),
            ": expected RGB images [N, 3, H, W], got ", images.shape());
  // Per-channel y = x * scale[c] + shift[c], as one broadcast multiply-add.
  float scale[3], shift[3];
  for (int c = 0; c < 3; ++c) {
    if (mode == Preprocess::Torch) {
      const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
      scale[c] = 1.0f / std[c];
      shift[c] = -mean[c] / std[c];
    } else {  // caffe: 0..255 and the BGR mean; channel order is swapped below
      const float mean_bgr[3] = {103.939f, 116.779f, 123.68f};
      scale[c] = 255.0f;
      shift[c] = -mean_bgr[c];
    }
  }
  Tensor x = images;
  if (mode == Preprocess::Caffe) {  // RGB -> BGR
    int64_t n = images.size(0), plane = images.size(2) * images.size(3);
    Tensor cpu = images.cpu();
    Tensor bgr = Tensor::empty(images.shape());
    for (int64_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c)
        std::copy_n(cpu.data() + (i * 3 + (2 - c)) * plane, plane, bgr.data() + (i * 3 + c) * plane);
    x = bgr.to(images.device());
  }
  Device device = images.device();
  Tensor s = Tensor::from_vector({scale[0], scale[1], scale[2]}, {1, 3, 1, 1}, device);
  Tensor b = Tensor::from_vector({shift[0], shift[1], shift[2]}, {1, 3, 1, 1}, device);
  return x * s + b;
}

}  // namespace nib::models
