// Augmentation: parsing, identity for an empty config, reproducibility by seed,
// shapes and value ranges kept, and the background filling uncovered pixels.
#include <cmath>

#include "datasets/augment.h"
#include "tests/helpers.h"

using namespace nib;
using namespace nib::data;

namespace {

// A bright square on a dark background, N copies of C channels.
Tensor squares(int64_t n, int64_t c, int64_t size, float background = 0.0f) {
  Tensor t = Tensor::full({n, c, size, size}, background);
  float* p = t.data();
  for (int64_t i = 0; i < n * c; ++i)
    for (int64_t y = size / 4; y < 3 * size / 4; ++y)
      for (int64_t x = size / 4; x < 3 * size / 4; ++x) p[(i * size + y) * size + x] = 1.0f - background;
  return t;
}

}  // namespace

TEST_CASE("augment specs parse, with a digits preset and clear errors") {
  AugmentConfig c = AugmentConfig::parse("rotate=10,zoom=0.1,shift=0.1,shear=5,contrast=0.2");
  CHECK(c.rotation_deg == 10);
  CHECK(c.zoom == doctest::Approx(0.1));
  CHECK(c.shift == doctest::Approx(0.1));
  CHECK(c.shear_deg == 5);
  CHECK(c.contrast == doctest::Approx(0.2));
  CHECK(AugmentConfig::parse(c.str()).str() == c.str());

  AugmentConfig digits = AugmentConfig::parse("digits");
  CHECK(digits.rotation_deg == 10);
  CHECK(digits.zoom == doctest::Approx(0.1));
  CHECK(digits.shift == doctest::Approx(0.1));
  CHECK(digits.shear_deg == 0);
  CHECK(digits.contrast == 0);
  CHECK(AugmentConfig::parse("digits,contrast=0.3").contrast == doctest::Approx(0.3));
  CHECK_FALSE(AugmentConfig::parse("").any());
  CHECK_FALSE(AugmentConfig::parse("none").any());
  CHECK(AugmentConfig{}.str() == "none");

  CHECK_THROWS_WITH_AS(AugmentConfig::parse("flip=1"), doctest::Contains("unknown key 'flip'"), Error);
  CHECK_THROWS_WITH_AS(AugmentConfig::parse("rotate=ten"), doctest::Contains("not a number"), Error);
  CHECK_THROWS_WITH_AS(AugmentConfig::parse("zoom=-0.1"), doctest::Contains("zoom must be in"), Error);
  CHECK_THROWS_WITH_AS(AugmentConfig::parse("fancy"), doctest::Contains("neither a preset"), Error);
}

TEST_CASE("a zero config leaves the batch unchanged") {
  Tensor batch = squares(3, 1, 12);
  Tensor out = augment_batch(batch, AugmentConfig{}, 5);
  CHECK(out.to_vector() == batch.to_vector());
}

TEST_CASE("augmentation changes pixels, keeps the shape and range, and is reproducible by seed") {
  Tensor batch = squares(4, 3, 16);
  AugmentConfig cfg = AugmentConfig::parse("rotate=15,zoom=0.15,shift=0.1,shear=10,contrast=0.3");
  Tensor a = augment_batch(batch, cfg, 1), b = augment_batch(batch, cfg, 1), c = augment_batch(batch, cfg, 2);
  CHECK(a.shape() == batch.shape());
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  CHECK(a.to_vector() != batch.to_vector());
  std::vector<float> v = a.to_vector();
  for (float x : v) REQUIRE((x >= 0.0f && x <= 1.0f));

  // Each image gets its own transform, but a transform is shared by the channels of one image.
  std::vector<float> img0(v.begin(), v.begin() + 256), img0_c1(v.begin() + 256, v.begin() + 512);
  std::vector<float> img1(v.begin() + 768, v.begin() + 1024);
  CHECK(img0 == img0_c1);
  CHECK(img0 != img1);
}

TEST_CASE("a shift moves the content, keeps its mass and fills with the background") {
  for (float background : {0.0f, 1.0f}) {
    Tensor batch = squares(1, 1, 20, background);
    AugmentConfig shift_only;
    shift_only.shift = 0.2f;  // at most 4 pixels: the 10-pixel square stays inside
    std::vector<float> in = batch.to_vector(), out = augment_batch(batch, shift_only, 77).to_vector();
    CHECK(in != out);
    // The corners stay background whatever the shift (the square is in the middle).
    CHECK(out[0] == doctest::Approx(background));
    CHECK(out[399] == doctest::Approx(background));
    // The square's area is preserved by a translation (bilinear weights sum to one).
    double sum_in = 0, sum_out = 0;
    for (size_t i = 0; i < in.size(); ++i) sum_in += std::fabs(in[i] - background), sum_out += std::fabs(out[i] - background);
    CHECK(sum_out == doctest::Approx(sum_in).epsilon(1e-4));
  }
}

TEST_CASE("a rotation never mirrors: the image's left-right asymmetry survives") {
  // A bar on the left third; any rotation up to 10 degrees keeps most of it on the left.
  Tensor batch = Tensor::zeros({8, 1, 21, 21});
  float* p = batch.data();
  for (int n = 0; n < 8; ++n)
    for (int y = 5; y < 16; ++y)
      for (int x = 3; x < 7; ++x) p[(n * 21 + y) * 21 + x] = 1;
  std::vector<float> out = augment_batch(batch, AugmentConfig::parse("rotate=10"), 3).to_vector();
  for (int n = 0; n < 8; ++n) {
    double left = 0, right = 0;
    for (int y = 0; y < 21; ++y)
      for (int x = 0; x < 21; ++x) (x < 10 ? left : right) += out[(n * 21 + y) * 21 + x];
    CHECK(left > 10 * right);
  }
}
