#include "datasets/augment.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "kernels/counter_rng.h"
#include "tensor/random.h"

namespace nib::data {

namespace {

constexpr float kPi = 3.14159265358979f;

// One image's random transform. The 2x2 matrix maps input offsets from the
// centre to output offsets: out - c = A (in - c) + t.
struct Transform {
  float a00, a01, a10, a11;  // A = rotation * shear * zoom
  float tx, ty;              // shift in pixels
  float contrast;            // factor around the mean
};

Transform draw_transform(const AugmentConfig& cfg, Generator& gen, int H, int W) {
  // Every parameter is always drawn, so each image uses the same number of random values.
  float angle = gen.uniform(-1, 1) * cfg.rotation_deg * kPi / 180;
  float zx = 1 + gen.uniform(-1, 1) * cfg.zoom, zy = 1 + gen.uniform(-1, 1) * cfg.zoom;
  float tx = gen.uniform(-1, 1) * cfg.shift * W, ty = gen.uniform(-1, 1) * cfg.shift * H;
  float shear = gen.uniform(-1, 1) * cfg.shear_deg * kPi / 180;
  float contrast = 1 + gen.uniform(-1, 1) * cfg.contrast;

  // rotation R = [c -s; s c], shear S = [1 tan; 0 1], zoom Z = diag(zx, zy): A = R S Z.
  float c = std::cos(angle), s = std::sin(angle), k = std::tan(shear);
  Transform t;
  t.a00 = c * zx;
  t.a01 = (c * k - s) * zy;
  t.a10 = s * zx;
  t.a11 = (s * k + c) * zy;
  t.tx = tx;
  t.ty = ty;
  t.contrast = contrast;
  return t;
}

// The mean of the pixels on the image's edge: the background that moves in
// where the transform uncovers pixels (0 for MNIST, ~1 for dark-on-light digits).
float border_mean(const float* plane, int H, int W) {
  double sum = 0;
  int count = 0;
  for (int x = 0; x < W; ++x) sum += plane[x] + plane[(H - 1) * W + x], count += 2;
  for (int y = 1; y + 1 < H; ++y) sum += plane[y * W] + plane[y * W + W - 1], count += 2;
  return static_cast<float>(sum / count);
}

// Output pixel (x, y) reads the input at c + A^-1 (out - c - t), bilinearly.
void warp_plane(const float* in, float* out, int H, int W, const Transform& t, float fill) {
  const float det = t.a00 * t.a11 - t.a01 * t.a10;
  const float i00 = t.a11 / det, i01 = -t.a01 / det, i10 = -t.a10 / det, i11 = t.a00 / det;
  const float cx = (W - 1) * 0.5f, cy = (H - 1) * 0.5f;
  auto pixel = [&](int y, int x) { return (y >= 0 && y < H && x >= 0 && x < W) ? in[y * W + x] : fill; };
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      float dx = x - cx - t.tx, dy = y - cy - t.ty;
      float sx = cx + i00 * dx + i01 * dy, sy = cy + i10 * dx + i11 * dy;
      int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      float fx = sx - x0, fy = sy - y0;
      float top = (1 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1);
      float bottom = (1 - fx) * pixel(y0 + 1, x0) + fx * pixel(y0 + 1, x0 + 1);
      out[y * W + x] = (1 - fy) * top + fy * bottom;
    }
  }
}

// Scales the distance from the plane's mean, as tf.image.adjust_contrast does.
void adjust_contrast(float* plane, int64_t size, float factor) {
  if (factor == 1.0f) return;
  double sum = 0;
  for (int64_t i = 0; i < size; ++i) sum += plane[i];
  float mean = static_cast<float>(sum / size);
  for (int64_t i = 0; i < size; ++i) plane[i] = std::clamp(mean + factor * (plane[i] - mean), 0.0f, 1.0f);
}

float parse_value(const std::string& key, const std::string& text, float max, const std::string& spec) {
  char* end = nullptr;
  float v = std::strtof(text.c_str(), &end);
  NIB_CHECK(!text.empty() && end == text.c_str() + text.size(), "augment '", spec, "': ", key, "=", text,
            " is not a number");
  NIB_CHECK(v >= 0 && v <= max, "augment '", spec, "': ", key, " must be in [0, ", max, "], got ", v);
  return v;
}

}  // namespace

AugmentConfig AugmentConfig::parse(const std::string& spec) {
  AugmentConfig cfg;
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty() || item == "none") continue;
    if (item == "digits") {
      cfg.rotation_deg = 10;
      cfg.zoom = 0.1f;
      cfg.shift = 0.1f;
      continue;
    }
    size_t eq = item.find('=');
    NIB_CHECK(eq != std::string::npos, "augment '", spec, "': '", item,
              "' is neither a preset (digits, none) nor key=value (rotate, zoom, shift, shear, contrast)");
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "rotate" || key == "rotation")
      cfg.rotation_deg = parse_value(key, value, 180, spec);
    else if (key == "zoom")
      cfg.zoom = parse_value(key, value, 0.9f, spec);
    else if (key == "shift")
      cfg.shift = parse_value(key, value, 0.5f, spec);
    else if (key == "shear")
      cfg.shear_deg = parse_value(key, value, 60, spec);
    else if (key == "contrast")
      cfg.contrast = parse_value(key, value, 1, spec);
    else
      fail("augment '", spec, "': unknown key '", key, "'; known: rotate, zoom, shift, shear, contrast");
  }
  return cfg;
}

std::string AugmentConfig::str() const {
  std::ostringstream out;
  const char* sep = "";
  auto add = [&](const char* key, float v) {
    if (v > 0) out << sep << key << "=" << v, sep = ",";
  };
  add("rotate", rotation_deg);
  add("zoom", zoom);
  add("shift", shift);
  add("shear", shear_deg);
  add("contrast", contrast);
  return any() ? out.str() : "none";
}

Tensor augment_batch(const Tensor& batch, const AugmentConfig& config, uint64_t seed, int64_t first_row) {
  check_defined(batch, "augment_batch", "batch");
  check_f32(batch, "augment_batch");
  NIB_CHECK(batch.dim() == 4, "augment_batch: expected [N, C, H, W], got ", batch.shape());
  NIB_CHECK(batch.device().is_cpu(), "augment_batch: the batch must be on the CPU (augment before moving it)");
  if (!config.any()) return batch;

  const int64_t N = batch.size(0), C = batch.size(1);
  const int H = static_cast<int>(batch.size(2)), W = static_cast<int>(batch.size(3));
  const int64_t plane = static_cast<int64_t>(H) * W;
  Tensor out = Tensor::empty(batch.shape());
  const float* in = batch.data();
  float* dst = out.data();
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    Generator gen(kernels::counter_hash(seed, static_cast<uint64_t>(first_row + n)));
    Transform t = draw_transform(config, gen, H, W);
    for (int64_t c = 0; c < C; ++c) {
      const float* src = in + (n * C + c) * plane;
      float* plane_out = dst + (n * C + c) * plane;
      warp_plane(src, plane_out, H, W, t, border_mean(src, H, W));
      adjust_contrast(plane_out, plane, t.contrast);
    }
  }
  return out;
}

}  // namespace nib::data
