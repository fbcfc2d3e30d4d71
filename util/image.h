// Images in memory, and the few operations a vision pipeline needs before a
// network sees them: load (PNG/JPEG/BMP/... through stb_image), convert between
// gray and RGB, resize, crop, and turn into a tensor.
//
// An Image is height x width x channels floats in [0, 1], interleaved (HWC),
// the layout image files use. image_to_tensor() turns it into the [C, H, W]
// planes (CHW) that nib's convolutions read.
#pragma once

#include <string>
#include <vector>


namespace nib {

struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<float> pixels;  // HWC, row-major, values in [0, 1]

  Image() = default;
  Image(int width, int height, int channels, float fill = 0.0f);
  float& at(int y, int x, int c) { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
  float at(int y, int x, int c) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

// The most pixels load_image decodes: 134 million (e.g. 11585 x 11585), more
// than any camera's photo, checked from the file's header before anything is
// decoded or allocated. A header claiming more is corrupt or hostile.
constexpr int64_t kMaxImagePixels = int64_t{1} << 27;

// Loads a PNG, JPEG or BMP file (util/image_checks.h says why only those). channels:
// 0 keeps what the file has (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA); 1 converts
// to gray, 3 to RGB (alpha is dropped). 16-bit files are reduced to 8 bits.
// Errors name the file and the reason (missing, truncated, corrupt, another
// format, over kMaxImagePixels), nib's own or stb_image's.
Image load_image(const std::string& path, int channels = 0);

// Writes .png, .jpg/.jpeg (quality 95) or .bmp, chosen by the extension.
// Values are clamped to [0, 1] and rounded to 8 bits.
void save_image(const Image& image, const std::string& path);

// Gray uses the ITU-R 601 weights (0.299 R + 0.587 G + 0.114 B), as PIL and
// torchvision do. Both functions drop alpha and copy an image already right.
Image to_gray(const Image& image);
Image to_rgb(const Image& image);
// The image with `channels` 1 or 3 (through to_gray / to_rgb).
Image convert_channels(const Image& image, int channels);

// Bilinear resize with PyTorch's semantics for
// F.interpolate(mode="bilinear", align_corners=False, antialias=False) and
// torchvision's Resize(antialias=False): pixel centres are aligned, and when
// shrinking each output pixel still reads only its 2x2 nearest inputs.
Image resize(const Image& image, int width, int height);
// torchvision Resize(size) with an int: the shorter side becomes `size`, the
// longer one keeps the aspect ratio (truncated to an integer).
Image resize_shorter_side(const Image& image, int size);
// torchvision CenterCrop: the offsets are round((in - out) / 2), ties to even.
Image center_crop(const Image& image, int width, int height);

}  // namespace nib
