#include "tensor/image_tensor.h"

#include <algorithm>
#include <vector>

#include "util/error.h"

namespace nib {

Tensor image_to_tensor(const Image& image) {
  const int C = image.channels, H = image.height, W = image.width;
  NIB_CHECK(!image.pixels.empty(), "image_to_tensor: empty image");
  Tensor t = Tensor::empty({C, H, W});
  float* out = t.data();
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < C; ++c) out[(static_cast<size_t>(c) * H + y) * W + x] = image.at(y, x, c);
  return t;
}

Image tensor_to_image(const Tensor& tensor) {
  check_defined(tensor, "tensor_to_image", "tensor");
  Tensor t = tensor.dim() == 4 && tensor.size(0) == 1 ? tensor.reshape({tensor.size(1), tensor.size(2), tensor.size(3)})
                                                       : tensor;
  NIB_CHECK(t.dim() == 3, "tensor_to_image: expected [C, H, W] or [1, C, H, W], got ", tensor.shape());
  const int C = static_cast<int>(t.size(0)), H = static_cast<int>(t.size(1)), W = static_cast<int>(t.size(2));
  std::vector<float> values = t.to_vector();
  Image image(W, H, C);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        image.at(y, x, c) = std::clamp(values[(static_cast<size_t>(c) * H + y) * W + x], 0.0f, 1.0f);
  return image;
}

}  // namespace nib
