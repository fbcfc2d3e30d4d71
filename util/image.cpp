// Loading, saving and converting images. The decoders are stb_image's
// (libstb already contains its implementation, so no STB_IMAGE_IMPLEMENTATION here).
#include "util/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

#include "util/error.h"
#include "util/files.h"
#include "util/image_checks.h"

namespace nib {

Image::Image(int w, int h, int c, float fill) : width(w), height(h), channels(c) {
  NIB_CHECK(w > 0 && h > 0 && c > 0, "Image: bad size ", w, "x", h, "x", c);
  pixels.assign(static_cast<size_t>(w) * h * c, fill);
}

namespace {

// stb's short reasons ("bad png sig", "outofdata", ...) are precise but terse;
// say what they mean for a user.
std::string explain_stb_failure(const char* reason) {
  std::string r = reason ? reason : "unknown error";
  if (r == "can't fopen") return r + " (missing file or no permission)";
  return r + " (the file is truncated, corrupt or uses an unsupported variant)";
}

Image drop_alpha(const Image& image) {
  if (image.channels != 2 && image.channels != 4) return image;
  Image out(image.width, image.height, image.channels - 1);
  size_t pixels = static_cast<size_t>(image.width) * image.height;
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < out.channels; ++c) out.pixels[p * out.channels + c] = image.pixels[p * image.channels + c];
  return out;
}

}  // namespace

Image load_image(const std::string& path, int channels) {
  NIB_CHECK(channels == 0 || channels == 1 || channels == 3, "load_image: channels must be 0 (as stored), 1 or 3, got ",
            channels, " for '", path, "'");
  std::error_code ec;
  NIB_CHECK(std::filesystem::is_regular_file(path, ec), "load_image: '", path, "' does not exist or is not a file");

  // The file is read once, checked (util/image_checks.h: what stb must not
  // see), then decoded from memory.
  const std::string file = read_file(path);
  NIB_CHECK(file.size() <= static_cast<size_t>(INT_MAX), "load_image: '", path, "' is over 2 GB");
  check_image_file(file, path);
  const auto* data_bytes = reinterpret_cast<const stbi_uc*>(file.data());
  const int length = static_cast<int>(file.size());

  int width = 0, height = 0, stored = 0;
  // The header alone first: stb allocates the whole image before it finds out
  // whether the file holds that many pixels. check_image_file checked the size
  // as nib reads the header; this is the size as stb reads it. (When stb cannot
  // read the header, stbi_load below fails too, with the reason.)
  if (stbi_info_from_memory(data_bytes, length, &width, &height, &stored))
    check_image_size(static_cast<uint64_t>(width), static_cast<uint64_t>(height), path);
  // RGB is asked of stb directly (it replicates gray and drops alpha, both exact);
  // gray is made here so the weights are PIL's rather than stb's.
  int request = channels == 3 ? 3 : 0;
  std::unique_ptr<unsigned char, void (*)(void*)> data(
      stbi_load_from_memory(data_bytes, length, &width, &height, &stored, request), stbi_image_free);
  if (!data) fail("load_image: cannot decode '", path, "': ", explain_stb_failure(stbi_failure_reason()));
  int have = request ? request : stored;

  Image image(width, height, have);
  const unsigned char* bytes = data.get();
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = bytes[i] / 255.0f;  // divided, as torchvision ToTensor does
  return channels == 0 ? image : convert_channels(image, channels);
}

void save_image(const Image& image, const std::string& path) {
  NIB_CHECK(image.width > 0 && image.height > 0 && image.channels >= 1 && image.channels <= 4,
            "save_image: cannot write a ", image.width, "x", image.height, "x", image.channels, " image to '", path, "'");
  std::vector<unsigned char> bytes(image.pixels.size());
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<unsigned char>(std::lround(std::clamp(image.pixels[i], 0.0f, 1.0f) * 255.0f));

  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  int w = image.width, h = image.height, c = image.channels, ok = 0;
  if (ext == ".png")
    ok = stbi_write_png(path.c_str(), w, h, c, bytes.data(), w * c);
  else if (ext == ".jpg" || ext == ".jpeg")
    ok = stbi_write_jpg(path.c_str(), w, h, c, bytes.data(), 95);
  else if (ext == ".bmp")
    ok = stbi_write_bmp(path.c_str(), w, h, c, bytes.data());
  else
    fail("save_image: '", path, "' should end in .png, .jpg, .jpeg or .bmp");
  NIB_CHECK(ok, "save_image: could not write '", path, "' (does its folder exist?)");
}

Image to_gray(const Image& image) {
  Image rgb = drop_alpha(image);
  if (rgb.channels == 1) return rgb;
  Image gray(rgb.width, rgb.height, 1);
  for (size_t p = 0; p < gray.pixels.size(); ++p) {
    const float* px = &rgb.pixels[p * 3];
    gray.pixels[p] = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
  }
  return gray;
}

Image to_rgb(const Image& image) {
  Image base = drop_alpha(image);
  if (base.channels == 3) return base;
  Image rgb(base.width, base.height, 3);
  for (size_t p = 0; p < base.pixels.size(); ++p)
    for (int c = 0; c < 3; ++c) rgb.pixels[p * 3 + c] = base.pixels[p];
  return rgb;
}

Image convert_channels(const Image& image, int channels) {
  NIB_CHECK(channels == 1 || channels == 3, "convert_channels: channels must be 1 or 3, got ", channels);
  return channels == 1 ? to_gray(image) : to_rgb(image);
}

}  // namespace nib
