// datasets/mnist_style: each step of preparing a digit MNIST-style, on
// synthetic drawings (inverted, off-centre, thin and thick strokes, alpha, a
// digit touching the border, noise, an empty image), then on the shared data.
#include <filesystem>

#include "datasets/mnist.h"
#include "datasets/mnist_style.h"
#include "tensor/image_tensor.h"
#include "tests/digit_drawings.h"
#include "tests/helpers.h"
#include "tests/shared_data.h"
#include "tests/temp_dir.h"

using namespace nib;
using namespace nib::data;
using nib::testing::centre_of_mass;
using nib::testing::draw_line;
using nib::testing::draw_ring;
using nib::testing::drawn_seven;
using nib::testing::error_of;
using nib::testing::mean_abs_difference;
using nib::testing::paper;

namespace {

// The checks every MNIST-style digit must pass: 28x28 gray, black border,
// ink's longer side the box (20, give or take the anti-aliased edge), and its
// centre of mass on pixel (14, 14), i.e. at 14.5 (whole-pixel shifts: within
// half a pixel).
void check_mnist_like(const Image& digit) {
  REQUIRE(digit.width == 28);
  REQUIRE(digit.height == 28);
  REQUIRE(digit.channels == 1);
  for (int i = 0; i < 28; ++i) {
    CHECK(digit.at(0, i, 0) < 0.05f);
    CHECK(digit.at(27, i, 0) < 0.05f);
    CHECK(digit.at(i, 0, 0) < 0.05f);
    CHECK(digit.at(i, 27, 0) < 0.05f);
  }
  InkBox box = find_ink(digit, 0.05f);
  CHECK(std::max(box.width(), box.height()) >= 19);
  CHECK(std::max(box.width(), box.height()) <= 21);
  auto [cx, cy] = centre_of_mass(digit);
  CHECK(std::fabs(cx - 14.5) <= 0.51);
  CHECK(std::fabs(cy - 14.5) <= 0.51);
  CHECK(*std::max_element(digit.pixels.begin(), digit.pixels.end()) > 0.9f);
}

}  // namespace

TEST_CASE("prepare: flatten_alpha puts transparent pixels on white paper") {
  Image rgba(3, 1, 4);
  rgba.pixels = {0, 0, 0, 0,      // transparent black: paper
                 0, 0, 0, 1,      // opaque black ink
                 0, 0.5f, 1, 0.5f};  // half-transparent colour
  Image flat = flatten_alpha(rgba);
  REQUIRE(flat.channels == 3);
  CHECK(flat.pixels == std::vector<float>{1, 1, 1, 0, 0, 0, 0.5f, 0.75f, 1});

  Image gray_alpha(2, 1, 2);
  gray_alpha.pixels = {0.2f, 0.0f, 0.2f, 1.0f};
  CHECK(flatten_alpha(gray_alpha).pixels == std::vector<float>{1.0f, 0.2f});
  Image rgb = drawn_seven();
  CHECK(flatten_alpha(rgb).pixels == rgb.pixels);  // nothing to flatten
}

TEST_CASE("prepare: the background's polarity is told by which way the ink differs from the border") {
  Image on_paper = drawn_seven();
  CHECK(has_light_background(on_paper));
  CHECK_FALSE(has_light_background(invert(on_paper)));
  // A dim photo: grey paper (0.45) and darker pencil (0.1) is still dark on light.
  Image dim = paper(40, 40, 0.45f, 0.05f);
  draw_ring(dim, 20, 20, 10, 14, 3, 0.1f);
  CHECK(has_light_background(dim));
  // A chalk digit on a grey-green board is light on dark.
  Image board = paper(40, 40, 0.3f, 0.05f);
  draw_ring(board, 20, 20, 10, 14, 3, 0.8f);
  CHECK_FALSE(has_light_background(board));
}

TEST_CASE("prepare: measure_ink finds paper and ink levels through texture and noise") {
  Image noisy = paper(60, 60, 0.15f, 0.1f);
  draw_ring(noisy, 30, 30, 12, 18, 4, 0.9f);
  InkLevels levels = measure_ink(noisy);
  CHECK(levels.background == doctest::Approx(0.15).epsilon(0.3));
  CHECK(levels.ink == doctest::Approx(0.9).epsilon(0.05));
  CHECK(levels.threshold > levels.background);  // the ink class is above the paper's grain
  CHECK(levels.threshold < 0.8f);
  CHECK(levels.has_ink());

  CHECK_FALSE(measure_ink(paper(60, 60, 0.0f)).has_ink());          // blank
  CHECK_FALSE(measure_ink(paper(60, 60, 0.2f, 0.1f)).has_ink());    // texture alone
  Image faint = paper(60, 60, 0.1f);
  draw_ring(faint, 30, 30, 12, 18, 4, 0.45f);                         // a light pencil
  CHECK(measure_ink(faint).has_ink());

  CHECK(levels.noise == doctest::Approx(0.058).epsilon(0.25));  // uniform +-0.1 has a standard deviation of 0.058
  CHECK(measure_ink(paper(60, 60, 0.15f)).noise == 0.0f);

  // The paper and its grain become MNIST's black; the ring white.
  Image stretched = stretch_levels(noisy, levels);
  int black = 0;
  for (float v : stretched.pixels) black += v == 0.0f;
  CHECK(black > 0.95 * (60 * 60 - 400));  // the ring covers under 400 pixels
  CHECK(stretched.at(30, 30 - 12, 0) == 1.0f);
}

TEST_CASE("prepare: find_ink boxes the ink, ignores lone specks and reaches the border") {
  Image image = paper(30, 20, 0.0f);
  draw_line(image, 5, 4, 15, 4, 2, 1.0f);
  draw_line(image, 15, 4, 15, 12, 2, 1.0f);
  image.at(18, 28, 0) = 1.0f;  // a speck of noise far away
  InkBox box = find_ink(image);
  CHECK(box.x0 == 4);
  CHECK(box.y0 == 3);
  CHECK(box.x1 == 16);
  CHECK(box.y1 == 13);

  Image touching = paper(20, 20, 0.0f);
  draw_line(touching, 0, 0, 0, 19, 3, 1.0f);
  InkBox edge = find_ink(touching);
  CHECK(edge.x0 == 0);
  CHECK(edge.y0 == 0);
  CHECK(edge.y1 == 20);

  CHECK(find_ink(paper(10, 10, 0.0f)).empty());
}

TEST_CASE("prepare: stroke_width measures thin and thick strokes; thicken_strokes widens only thin ones") {
  for (double width : {1.0, 3.0, 6.0}) {
    Image ring = paper(120, 120, 0.0f);
    draw_ring(ring, 60, 60, 40, 50, width, 1.0f);
    CAPTURE(width);
    CHECK(stroke_width(ring) == doctest::Approx(width).epsilon(0.3));
  }
  Image thin = paper(120, 120, 0.0f);
  draw_ring(thin, 60, 60, 40, 50, 1, 1.0f);
  CHECK(stroke_width(thicken_strokes(thin, 4)) >= 3.5);
  Image thick = paper(120, 120, 0.0f);
  draw_ring(thick, 60, 60, 40, 50, 6, 1.0f);
  CHECK(thicken_strokes(thick, 4).pixels == thick.pixels);
  CHECK(stroke_width(paper(8, 8, 0.0f)) == 0.0);

  // A dot (width 2 * 1 / 4 = 0.5) widened to 8.5 pixels: a max filter of radius 4, a 9x9 square.
  Image dot = paper(20, 20, 0.0f);
  dot.at(10, 10, 0) = 1.0f;
  Image square = thicken_strokes(dot, 8.5);
  InkBox box = find_ink(square);
  CHECK(box.x0 == 6);
  CHECK(box.y0 == 6);
  CHECK(box.x1 == 15);
  CHECK(box.y1 == 15);
  CHECK(std::count(square.pixels.begin(), square.pixels.end(), 1.0f) == 81);
}

TEST_CASE("prepare: fit_into_box keeps the aspect ratio") {
  Image wide = paper(40, 20, 1.0f), tall = paper(10, 30, 1.0f), tiny = paper(4, 5, 1.0f);
  CHECK(fit_into_box(wide, 20).width == 20);
  CHECK(fit_into_box(wide, 20).height == 10);
  CHECK(fit_into_box(tall, 20).width == 7);
  CHECK(fit_into_box(tall, 20).height == 20);
  CHECK(fit_into_box(tiny, 20).width == 16);  // small drawings are enlarged
  CHECK(fit_into_box(tiny, 20).height == 20);
}

TEST_CASE("prepare: centre_by_mass puts the centre of mass in the middle without losing ink") {
  // A "7": its mass sits high and to the right of its box.
  Image seven = paper(20, 20, 0.0f);
  draw_line(seven, 0, 1, 20, 1, 2, 1.0f);
  draw_line(seven, 19, 1, 8, 20, 2, 1.0f);
  Image framed = centre_by_mass(seven, 28);
  auto [cx, cy] = centre_of_mass(framed);
  CHECK(std::fabs(cx - 14.5) <= 0.5);
  CHECK(std::fabs(cy - 14.5) <= 0.5);
  double total = 0, kept = 0;
  for (float v : seven.pixels) total += v;
  for (float v : framed.pixels) kept += v;
  CHECK(kept == doctest::Approx(total));

  // Mass all in one corner: the shift stops where the ink would leave the frame.
  Image corner = paper(20, 20, 0.0f);
  corner.at(0, 0, 0) = 1.0f;
  Image clamped = centre_by_mass(corner, 28);
  CHECK(clamped.at(8, 8, 0) == 1.0f);
  CHECK(error_of([] { centre_by_mass(paper(30, 10, 0.0f), 28); }).find("does not fit") != std::string::npos);
}

TEST_CASE("prepare: an off-centre drawing, dark on white, becomes an MNIST digit") {
  Image seven = drawn_seven();
  Image digit = prepare_digit(seven, {}, "seven.png");
  check_mnist_like(digit);
  // The same drawing, light on dark, gives the same digit.
  CHECK(mean_abs_difference(prepare_digit(invert(seven)), digit) < 1e-6);
  // Where it was on the page does not matter.
  Image moved = paper(60, 50, 1.0f);
  draw_line(moved, 28, 12, 50, 12, 3, 0.0f);
  draw_line(moved, 50, 12, 36, 46, 3, 0.0f);
  CHECK(mean_abs_difference(prepare_digit(moved), digit) < 1e-6);
}

TEST_CASE("prepare: thin pen strokes on a large photo stay visible, thick marker strokes fit the box") {
  Image thin = paper(300, 300, 0.9f, 0.05f);
  draw_ring(thin, 150, 150, 60, 90, 1.5, 0.2f);
  Image digit = prepare_digit(thin, {}, "thin.jpg");
  check_mnist_like(digit);
  CHECK(stroke_width(digit) >= 1.5);  // a 1.5-pixel line shrunk 9 times would be a faint 0.2

  Image thick = paper(40, 40, 1.0f);
  draw_ring(thick, 20, 20, 9, 13, 8, 0.0f);
  Image bold = prepare_digit(thick, {}, "thick.png");
  check_mnist_like(bold);
  CHECK(stroke_width(bold) > 3);  // left bold (MNIST's strokes are about 2 wide), not thinned
}

TEST_CASE("prepare: black ink on a transparent canvas is read as ink on white paper") {
  Image seven = drawn_seven();
  Image transparent(seven.width, seven.height, 4);  // RGBA: black everywhere, opaque only where the ink is
  for (size_t p = 0; p < seven.pixels.size(); ++p) transparent.pixels[p * 4 + 3] = 1.0f - seven.pixels[p];
  CHECK(mean_abs_difference(prepare_digit(transparent), prepare_digit(seven)) < 1e-6);
  // Dropping alpha instead would see a black square: no digit at all.
  CHECK(error_of([&] { prepare_digit(to_gray(transparent), {}, "x.png"); }).find("no digit found") !=
        std::string::npos);
}

TEST_CASE("prepare: a digit touching the border keeps all its ink") {
  Image clipped = paper(30, 40, 1.0f);
  draw_line(clipped, 0, 5, 0, 35, 4, 0.0f);  // a "1" drawn against the left edge
  draw_line(clipped, 0, 5, 6, 10, 4, 0.0f);
  Image digit = prepare_digit(clipped, {}, "edge.png");
  check_mnist_like(digit);
  InkBox box = find_ink(digit, 0.05f);
  CHECK(box.height() >= 19);
}

TEST_CASE("prepare: JPEG noise and paper texture do not change the digit much") {
  nib::testing::TempDir dir;
  Image clean = drawn_seven();
  Image textured = clean;
  Image grain = paper(60, 50, 0.0f, 0.08f);
  for (size_t i = 0; i < textured.pixels.size(); ++i)
    textured.pixels[i] = std::clamp(0.9f * textured.pixels[i] + 0.05f + grain.pixels[i], 0.0f, 1.0f);
  save_image(textured, dir.file("seven.jpg"));
  Image photo = load_image(dir.file("seven.jpg"));
  Image digit = prepare_digit(photo, {}, "seven.jpg");
  check_mnist_like(digit);
  CHECK(mean_abs_difference(digit, prepare_digit(clean)) < 0.05);
}

TEST_CASE("prepare: an empty image is a clear error naming the file, not a crash") {
  std::string blank = error_of([] { prepare_digit(paper(28, 28, 1.0f), {}, "blank.png"); });
  CHECK(blank.find("blank.png: no digit found") == 0);
  CHECK(blank.find("blank") != std::string::npos);
  CHECK(error_of([] { prepare_digit(paper(50, 50, 0.8f, 0.08f), {}, "grain.jpg"); }).find("grain.jpg: no digit") == 0);
  Image speck = paper(28, 28, 1.0f);
  speck.at(10, 10, 0) = 0.0f;
  CHECK(error_of([&] { prepare_digit(speck, {}, "speck.png"); }).find("specks") != std::string::npos);
  Image one_pixel(1, 1, 1, 0.5f);
  CHECK(error_of([&] { prepare_digit(one_pixel, {}, "dot.png"); }).find("no digit found") != std::string::npos);
}

TEST_CASE("prepare: another frame, box and polarity") {
  Image digit = prepare_digit(drawn_seven(), DigitFrame{32, 16, /*light_ink=*/false}, "seven.png");
  REQUIRE(digit.width == 32);
  CHECK(digit.at(0, 0, 0) == 1.0f);  // white paper
  InkBox box = find_ink(invert(digit), 0.05f);
  CHECK(std::max(box.width(), box.height()) <= 17);
  CHECK(error_of([] { prepare_digit(drawn_seven(), DigitFrame{20, 24}, "x.png"); }).find("does not fit") !=
        std::string::npos);
}

namespace {
std::string shared_data() { return nib::testing::shared_data_dir(); }
}  // namespace

TEST_CASE("prepare: the shared own-digits drawings become MNIST-like digits" *
          doctest::skip(!nib::testing::has_shared_data("own-digits"))) {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(shared_data() + "/own-digits")) {
    if (entry.path().extension() != ".png") continue;
    CAPTURE(entry.path().string());
    check_mnist_like(prepare_digit(load_image(entry.path().string()), {}, entry.path().string()));
    ++count;
  }
  CHECK(count == 20);
}

TEST_CASE("prepare: MNIST's own digits come out almost as they went in" *
          doctest::skip(!nib::testing::has_shared_data("mnist"))) {
  MnistData mnist = load_mnist(shared_data() + "/mnist");
  double total = 0;
  const int n = 500;
  for (int i = 0; i < n; ++i) {
    Image digit = tensor_to_image(mnist.test.images.slice_rows(i, i + 1));
    total += mean_abs_difference(prepare_digit(digit), digit);
  }
  // Most come out exactly; the rest differ by a one-pixel shift or a rescale
  // of a digit whose faint edge made its box 20 but its ink's box 19.
  CHECK(total / n < 0.03);
}
