// util/image: loading and saving through stb, conversions, resize against
// PyTorch, crops and the tensor layout.
#include <cmath>
#include <fstream>
#include <sstream>

#include "tensor/image_tensor.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "util/image.h"

using namespace nib;
using nib::testing::TempDir;

namespace {

// An image whose pixels are all different multiples of 1/255, so an 8-bit
// file stores them exactly.
Image pattern(int w, int h, int c) {
  Image image(w, h, c);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<float>((i * 37 + 11) % 256) / 255;
  return image;
}

}  // namespace

TEST_CASE("PNG and BMP files round-trip exactly, gray and RGB") {
  TempDir dir;
  for (int channels : {1, 3, 4}) {
    for (const char* ext : {".png", ".bmp"}) {
      if (channels != 3 && std::string(ext) == ".bmp") continue;  // stb writes every BMP as 24-bit RGB
      Image original = pattern(7, 5, channels);
      std::string path = dir.file(std::string("x") + std::to_string(channels) + ext);
      save_image(original, path);
      Image loaded = load_image(path);
      CAPTURE(path);
      CHECK(loaded.width == 7);
      CHECK(loaded.height == 5);
      CHECK(loaded.channels == channels);
      CHECK(loaded.pixels == original.pixels);
    }
  }
}

TEST_CASE("JPEG files load close to what was saved") {
  TempDir dir;
  Image smooth(16, 16, 3);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c) smooth.at(y, x, c) = (x + y + 4 * c) / 50.0f;
  save_image(smooth, dir.file("a.jpg"));
  Image loaded = load_image(dir.file("a.jpg"), 3);
  REQUIRE(loaded.pixels.size() == smooth.pixels.size());
  double worst = 0;
  for (size_t i = 0; i < smooth.pixels.size(); ++i) worst = std::max(worst, double(std::fabs(loaded.pixels[i] - smooth.pixels[i])));
  CHECK(worst < 0.05);
}

TEST_CASE("load_image converts channels: RGB to gray with PIL's weights, gray to RGB by copying") {
  TempDir dir;
  Image rgb(2, 1, 3);
  rgb.pixels = {1, 0, 0, 51 / 255.0f, 102 / 255.0f, 204 / 255.0f};
  save_image(rgb, dir.file("rgb.png"));
  Image gray = load_image(dir.file("rgb.png"), 1);
  REQUIRE(gray.channels == 1);
  CHECK(gray.pixels[0] == doctest::Approx(0.299).epsilon(1e-5));
  CHECK(gray.pixels[1] == doctest::Approx((0.299 * 51 + 0.587 * 102 + 0.114 * 204) / 255).epsilon(1e-5));

  Image g = pattern(3, 2, 1);
  save_image(g, dir.file("g.png"));
  Image as_rgb = load_image(dir.file("g.png"), 3);
  REQUIRE(as_rgb.channels == 3);
  for (int c = 0; c < 3; ++c) CHECK(as_rgb.at(1, 2, c) == g.at(1, 2, 0));

  Image rgba = pattern(3, 2, 4);
  Image no_alpha = to_rgb(rgba);
  CHECK(no_alpha.channels == 3);
  CHECK(no_alpha.at(1, 1, 2) == rgba.at(1, 1, 2));
}

TEST_CASE("unreadable image files are errors naming the file and the reason") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(load_image(dir.file("missing.png")), doctest::Contains("missing.png"), Error);

  nib::testing::write_text(dir.file("notes.png"), "this is not an image");
  CHECK_THROWS_WITH_AS(load_image(dir.file("notes.png")), doctest::Contains("notes.png"), Error);
  CHECK_THROWS_WITH_AS(load_image(dir.file("notes.png")), doctest::Contains("unknown image type"), Error);

  // A PNG cut in half: the header is fine, the pixel data stops early.
  save_image(pattern(64, 64, 3), dir.file("full.png"));
  std::vector<unsigned char> bytes = nib::testing::read_bytes(dir.file("full.png"));
  bytes.resize(bytes.size() / 2);
  nib::testing::write_bytes(dir.file("cut.png"), bytes);
  CHECK_THROWS_WITH_AS(load_image(dir.file("cut.png")), doctest::Contains("cut.png"), Error);

  CHECK_THROWS_AS(save_image(pattern(2, 2, 1), dir.file("x.gif")), Error);
}

TEST_CASE("the image files that found bugs in stb_image are refused before stb sees them") {
  // fuzz/regressions/image/: each one crashed, overflowed or hit undefined behaviour in stb 2.27.
  const std::string dir = std::string(NIB_SOURCE_DIR) + "/fuzz/regressions/image/";
  const std::pair<const char*, const char*> cases[] = {
      {"jpeg-huffman-table-over-256-codes.jpg", "Huffman table"},
      {"png-chunk-claims-1.5GB", "says it holds"},
      {"png-empty-first-data-chunk", "first PNG data chunk (IDAT, at byte 33) is empty"},
      {"bmp-size-overflows-a-double-cast", "4278190080x12976128 pixels, over nib's limit"},
      {"pnm-16-bit-converted-as-8-bit.pgm", "unknown image type"},
      {"jpeg-scan-uses-an-undefined-huffman-table.jpg", "uses DC Huffman table 3, which no DHT segment before it defines"},
      {"bmp-os2-27-bytes-claims-95-megapixels", "a 21504x4405 BMP needs at least 94725120 bytes, the file has 27"},
      {"bmp-os2-header-cut-short-claims-31-megapixels", "its BMP header ends at byte 26, the file has 25 bytes"},
  };
  for (const auto& [name, message] : cases) {
    const std::string file = name;  // clang 14 cannot capture a structured binding in CAPTURE
    CAPTURE(file);
    CHECK_THROWS_WITH_AS(load_image(dir + file), doctest::Contains(message), Error);
  }

  // Undefined arithmetic inside stb's JPEG decoder that nib cannot see coming
  // (fuzz/stb_image_ubsan_ignore.txt): stb refuses the file itself.
  CHECK_THROWS_WITH_AS(load_image(dir + "jpeg-bit-count-goes-negative.jpg"),
                       doctest::Contains("jpeg-bit-count-goes-negative.jpg"), Error);

  // Progressive JPEGs define tables between scans, and DC refinement scans use
  // none: they still load (libjpeg's simple progression, 10 and 6 scans).
  const std::string seeds = std::string(NIB_SOURCE_DIR) + "/fuzz/corpus/image/";
  Image progressive = load_image(seeds + "progressive.jpg");
  CHECK((progressive.width == 16 && progressive.height == 12 && progressive.channels == 3));
  CHECK(load_image(seeds + "progressive_gray.jpg").channels == 1);

  // An empty data chunk after the first one is harmless, and still read.
  TempDir tmp;
  const Image image = pattern(5, 4, 3);
  save_image(image, tmp.file("a.png"));
  std::vector<unsigned char> bytes = nib::testing::read_bytes(tmp.file("a.png"));
  size_t idat = 8;
  while (std::string(bytes.begin() + idat + 4, bytes.begin() + idat + 8) != "IDAT") {
    idat += 12 + ((bytes[idat] << 24) | (bytes[idat + 1] << 16) | (bytes[idat + 2] << 8) | bytes[idat + 3]);
  }
  const size_t after = idat + 12 + ((bytes[idat] << 24) | (bytes[idat + 1] << 16) | (bytes[idat + 2] << 8) | bytes[idat + 3]);
  const unsigned char empty_idat[] = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E};  // CRC of "IDAT"
  bytes.insert(bytes.begin() + after, std::begin(empty_idat), std::end(empty_idat));
  nib::testing::write_bytes(tmp.file("b.png"), bytes);
  CHECK(load_image(tmp.file("b.png")).pixels == load_image(tmp.file("a.png")).pixels);
}

TEST_CASE("resize matches PyTorch's bilinear interpolation (align_corners=False, no antialias)") {
  std::ifstream in(std::string(NIB_FIXTURE_DIR) + "/resize/bilinear.txt");
  REQUIRE_MESSAGE(in, "missing fixture; run /usr/bin/python3 tools/fixtures/resize.py");
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.rfind("case", 0) != 0) continue;
    std::istringstream header(line.substr(4));  // "case in_h in_w c out_h out_w"
    int in_h, in_w, c, out_h, out_w;
    header >> in_h >> in_w >> c >> out_h >> out_w;
    auto read_values = [&](size_t n) {
      std::getline(in, line);
      std::istringstream values(line);
      std::vector<float> v(n);
      for (float& x : v) values >> x;
      REQUIRE(values);
      return v;
    };
    Image image(in_w, in_h, c);
    image.pixels = read_values(image.pixels.size());
    std::vector<float> expected = read_values(static_cast<size_t>(out_h) * out_w * c);

    Image resized = resize(image, out_w, out_h);
    INFO("case " << in_h << "x" << in_w << "x" << c << " -> " << out_h << "x" << out_w);
    CHECK(resized.width == out_w);
    CHECK(resized.height == out_h);
    NIB_CHECK_CLOSE(resized.pixels, expected, 3e-7);  // a few float roundings
    ++cases;
  }
  CHECK(cases >= 5);
}

TEST_CASE("resize_shorter_side keeps the aspect ratio like torchvision Resize(int)") {
  Image wide = pattern(300, 200, 3);
  Image r = resize_shorter_side(wide, 256);
  CHECK(r.height == 256);
  CHECK(r.width == 384);
  Image tall = pattern(199, 301, 1);
  Image t = resize_shorter_side(tall, 100);
  CHECK(t.width == 100);
  CHECK(t.height == 151);  // int(100 * 301 / 199) = int(151.25)
}

TEST_CASE("center_crop cuts the middle, rounding the offset half to even") {
  Image image(5, 4, 1);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) image.at(y, x, 0) = static_cast<float>(10 * y + x);
  // width 5 -> 2: offset round(1.5) = 2; height 4 -> 3: offset round(0.5) = 0.
  Image crop = center_crop(image, 2, 3);
  CHECK(crop.pixels == std::vector<float>{2, 3, 12, 13, 22, 23});
  CHECK_THROWS_AS(center_crop(image, 6, 2), Error);
}

TEST_CASE("image_to_tensor gives [C, H, W] planes and tensor_to_image inverts it") {
  Image image = pattern(4, 3, 3);
  Tensor t = image_to_tensor(image);
  CHECK(t.shape() == Shape{3, 3, 4});
  std::vector<float> v = t.to_vector();
  CHECK(v[(2 * 3 + 1) * 4 + 3] == image.at(1, 3, 2));  // channel 2, row 1, column 3
  Image back = tensor_to_image(t.reshape({1, 3, 3, 4}));
  CHECK(back.pixels == image.pixels);
  CHECK_THROWS_AS(tensor_to_image(Tensor::zeros({2, 3})), Error);
}
