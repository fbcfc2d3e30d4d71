// nib's pictures: canvas primitives, the font, ticks, PNG output and charts.
#include <doctest/doctest.h>
#include <stb/stb_image.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "viz/canvas.h"
#include "viz/font.h"
#include "viz/plots.h"
#include "viz/ticks.h"

namespace nib::viz {
// So that doctest prints colours in failed checks.
inline std::ostream& operator<<(std::ostream& out, const Color& c) {
  return out << "rgb(" << int(c.r) << ", " << int(c.g) << ", " << int(c.b) << ")";
}
}  // namespace nib::viz

using namespace nib;
using namespace nib::viz;
namespace fs = std::filesystem;

namespace {

// A fresh directory for this test run's files, removed at exit.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("nib_test_viz_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

int count_pixels(const Canvas& c, Color color) {
  int n = 0;
  for (int y = 0; y < c.height(); ++y) {
    for (int x = 0; x < c.width(); ++x) n += c.pixel(x, y) == color;
  }
  return n;
}

// Bounding box of the pixels that differ from `background`: {x0, y0, x1, y1}, exclusive ends.
std::array<int, 4> ink_box(const Canvas& c, Color background = kWhite) {
  std::array<int, 4> box = {c.width(), c.height(), -1, -1};
  for (int y = 0; y < c.height(); ++y) {
    for (int x = 0; x < c.width(); ++x) {
      if (c.pixel(x, y) == background) continue;
      box[0] = std::min(box[0], x), box[1] = std::min(box[1], y);
      box[2] = std::max(box[2], x + 1), box[3] = std::max(box[3], y + 1);
    }
  }
  return box;
}

// Brief constructors, so that tests name only what they use.
Series series(std::string name, std::vector<double> ys, std::optional<Color> color = {}, bool dashed = false) {
  Series s;
  s.name = std::move(name), s.ys = std::move(ys), s.color = color, s.dashed = dashed;
  return s;
}

LineChart line_chart(std::vector<Series> all) {
  LineChart chart;
  chart.series = std::move(all);
  return chart;
}

BarChart bar_chart(std::vector<std::string> labels, std::vector<double> values) {
  BarChart chart;
  chart.labels = std::move(labels), chart.values = std::move(values);
  return chart;
}

bool is_nice_step(double step) {
  double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
  return std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 || std::fabs(mantissa - 5) < 1e-9;
}

}  // namespace

// ---- Canvas ------------------------------------------------------------------

TEST_CASE("fill_rect sets exactly its pixels and clips at the edges") {
  Canvas c(10, 8);
  c.fill_rect(2, 3, 4, 2, kRed);
  CHECK(count_pixels(c, kRed) == 8);
  CHECK(c.pixel(2, 3) == kRed);
  CHECK(c.pixel(5, 4) == kRed);
  CHECK(c.pixel(6, 4) == kWhite);
  CHECK(c.pixel(2, 5) == kWhite);
  c.fill_rect(-5, -5, 7, 7, kBlack);  // partly outside: only the inside part
  CHECK(count_pixels(c, kBlack) == 4);
  CHECK_THROWS_AS(c.pixel(10, 0), nib::Error);
}

TEST_CASE("draw_rect draws an outline of the given thickness") {
  Canvas c(10, 10);
  c.draw_rect(1, 1, 6, 5, kBlack, 2);
  CHECK(c.pixel(1, 1) == kBlack);
  CHECK(c.pixel(2, 2) == kBlack);
  CHECK(c.pixel(3, 3) == kWhite);  // the inside stays empty
  CHECK(c.pixel(6, 5) == kBlack);
  CHECK(c.pixel(7, 5) == kWhite);
}

TEST_CASE("a horizontal line through pixel centres covers one full row") {
  Canvas c(20, 10);
  c.draw_line(2.5, 4.5, 15.5, 4.5, kBlack, 1.0);
  for (int x = 3; x <= 15; ++x) CHECK(c.pixel(x, 4) == kBlack);
  for (int x = 0; x < 20; ++x) {
    CHECK(c.pixel(x, 3) == kWhite);
    CHECK(c.pixel(x, 5) == kWhite);
  }
  CHECK(c.pixel(18, 4) == kWhite);
}

TEST_CASE("a diagonal line is anti-aliased and stays near its path") {
  Canvas c(30, 30);
  c.draw_line(2, 2, 27, 27, kBlack, 2.0);
  CHECK(c.pixel(14, 14) == kBlack);
  int partial = 0;
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 30; ++x) {
      Color p = c.pixel(x, y);
      double distance = std::fabs((x + 0.5) - (y + 0.5)) / std::sqrt(2.0);
      if (distance > 2.0) CHECK(p == kWhite);
      partial += p != kWhite && p != kBlack;
    }
  }
  CHECK(partial > 0);  // the edges are blended, not jagged
}

TEST_CASE("a dashed line has gaps, a solid one does not") {
  Canvas solid(100, 5), dashed(100, 5);
  solid.draw_polyline({0.0, 100.0}, {2.5, 2.5}, kBlack, 1.0);
  dashed.draw_polyline({0.0, 100.0}, {2.5, 2.5}, kBlack, 1.0, 10.0);
  CHECK(count_pixels(solid, kWhite) == 4 * 100);
  int ink = 100 * 5 - count_pixels(dashed, kWhite);
  CHECK(ink > 40);
  CHECK(ink < 80);  // dashes of 10 and gaps of 6
}

TEST_CASE("polylines skip segments with non-finite points") {
  Canvas c(40, 10);
  c.draw_polyline({1.0, 10.0, NAN, 30.0, 39.0}, {5.5, 5.5, 5.5, 5.5, 5.5}, kBlack, 1.0);
  CHECK(c.pixel(5, 5) == kBlack);
  CHECK(c.pixel(20, 5) == kWhite);  // the gap where the NaN is
  CHECK(c.pixel(35, 5) == kBlack);
}

TEST_CASE("fill_circle covers about pi r^2 pixels around its centre") {
  Canvas c(40, 40);
  c.fill_circle(20, 20, 8, kBlack);
  CHECK(c.pixel(20, 20) == kBlack);
  CHECK(c.pixel(20, 30) == kWhite);
  double covered = 0;
  for (uint8_t v : c.pixels()) covered += (255 - v) / 255.0 / 3;
  CHECK(covered == doctest::Approx(M_PI * 64).epsilon(0.03));
}

TEST_CASE("the clip box limits drawing") {
  Canvas c(20, 20);
  c.set_clip(5, 5, 10, 10);
  c.fill_rect(0, 0, 20, 20, kBlack);
  CHECK(count_pixels(c, kBlack) == 100);
  CHECK(c.pixel(4, 4) == kWhite);
  c.reset_clip();
  c.fill_rect(0, 0, 20, 20, kBlack);
  CHECK(count_pixels(c, kBlack) == 400);
}

// ---- Font and text -----------------------------------------------------------

TEST_CASE("every printable character has its own glyph") {
  std::set<font::Glyph> seen;
  for (char ch = 33; ch < 127; ++ch) {
    const font::Glyph& g = font::glyph(ch);
    bool any_ink = false;
    for (uint8_t row : g) any_ink |= row != 0;
    INFO("character '" << ch << "'");
    CHECK(any_ink);
    CHECK(seen.insert(g).second);  // a copy-paste slip would make two glyphs equal
  }
  for (uint8_t row : font::glyph(' ')) CHECK(row == 0);
  CHECK(font::glyph('\x01') == font::glyph('\xc3'));  // unsupported bytes share the box glyph
  CHECK(font::glyph('\x01') != font::glyph('?'));
}

TEST_CASE("measure_text: advance per character, scale, lines") {
  CHECK(measure_text("").width == 0);
  CHECK(measure_text("A").width == 5);
  CHECK(measure_text("Hello").width == 5 * 6 - 1);
  CHECK(measure_text("Hello", 3).width == (5 * 6 - 1) * 3);
  CHECK(measure_text("Hi", 2).height == 9 * 2);
  TextSize two = measure_text("ab\nlonger");
  CHECK(two.width == 6 * 6 - 1);
  CHECK(two.height == 11 + 9);
}

TEST_CASE("text is drawn inside the box measure_text gives, for each alignment") {
  for (int scale = 1; scale <= 3; ++scale) {
    for (HAlign h : {HAlign::Left, HAlign::Center, HAlign::Right}) {
      Canvas c(400, 100);
      TextSize size = measure_text("Ajgy 0.97%", scale);
      c.draw_text("Ajgy 0.97%", 200, 20, kBlack, TextStyle{scale, h, VAlign::Top});
      auto box = ink_box(c);
      int left = h == HAlign::Left ? 200 : h == HAlign::Center ? 200 - size.width / 2 : 200 - size.width;
      INFO("scale " << scale);
      CHECK(box[0] == left);               // 'A' touches the left edge
      CHECK(box[1] == 20);                 // capitals touch the top
      CHECK(box[2] == left + size.width);  // '%' touches the right edge
      CHECK(box[3] == 20 + size.height);   // 'g', 'j', 'y' reach the bottom
    }
  }
}

TEST_CASE("middle and bottom alignment place the capitals around y") {
  Canvas middle(100, 60), bottom(100, 60);
  middle.draw_text("HI", 10, 30, kBlack, TextStyle{2, HAlign::Left, VAlign::Middle});
  bottom.draw_text("HI", 10, 30, kBlack, TextStyle{2, HAlign::Left, VAlign::Bottom});
  auto m = ink_box(middle), b = ink_box(bottom);
  CHECK(m[1] == 30 - 7);  // 14 pixels of capitals, centred on 30
  CHECK(m[3] == 30 + 7);
  CHECK(b[3] == 30);  // the baseline sits on y
}

TEST_CASE("vertical text reads upwards and swaps the measured box") {
  Canvas c(60, 120);
  TextSize size = measure_text("Loss", 2);
  c.draw_text("Loss", 10, 100, kBlack, TextStyle{2, HAlign::Left, VAlign::Top, true});
  auto box = ink_box(c);
  CHECK(box[2] - box[0] <= size.height);
  CHECK(box[3] - box[1] == size.width);
  CHECK(box[3] == 100);  // starts at the anchor and goes up
  // 'L' is at the bottom: its foot (a full row of the glyph) becomes a full column on the right side.
  CHECK(c.pixel(10 + 6 * 2 + 1, 99) == kBlack);
}

TEST_CASE("fit_text shortens with '..' only when needed") {
  CHECK(fit_text("short", 100) == "short");
  std::string cut = fit_text("a rather long class name", 60);
  CHECK(cut.size() < 24);
  CHECK(cut.ends_with(".."));
  CHECK(measure_text(cut).width <= 60);
}

// ---- Images --------------------------------------------------------------------

TEST_CASE("blit: nearest enlargement repeats pixels; CHW and HWC agree") {
  // A 2x2 RGB image: red, green / blue, white.
  std::vector<float> chw = {1, 0, 0, 1,   // R
                            0, 1, 0, 1,   // G
                            0, 0, 1, 1};  // B
  std::vector<float> hwc(12);
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 4; ++i) hwc[i * 3 + c] = chw[c * 4 + i];
  }
  Canvas a(8, 8, kBlack), b(8, 8, kBlack);
  a.blit(ImageView{chw.data(), 3, 2, 2, false}, 2, 2, 4, 4, Resample::Nearest);
  b.blit(ImageView{hwc.data(), 3, 2, 2, true}, 2, 2, 4, 4, Resample::Nearest);
  CHECK(a.pixels() == b.pixels());
  CHECK(a.pixel(2, 2) == Color{255, 0, 0});
  CHECK(a.pixel(3, 3) == Color{255, 0, 0});
  CHECK(a.pixel(4, 2) == Color{0, 255, 0});
  CHECK(a.pixel(2, 5) == Color{0, 0, 255});
  CHECK(a.pixel(5, 5) == kWhite);
  CHECK(a.pixel(1, 1) == kBlack);  // outside the box: untouched
  CHECK(a.pixel(6, 6) == kBlack);
}

TEST_CASE("blit: gray images, bilinear blending, clamping") {
  std::vector<float> gray = {0.0f, 1.0f, 2.0f /* clamped to 1 */, NAN /* shown as 0 */};
  Canvas c(4, 4);
  c.blit(ImageView{gray.data(), 1, 2, 2}, 0, 0, 4, 4, Resample::Nearest);
  CHECK(c.pixel(0, 0) == kBlack);
  CHECK(c.pixel(3, 0) == kWhite);
  CHECK(c.pixel(0, 3) == kWhite);
  CHECK(c.pixel(3, 3) == kBlack);
  std::vector<float> ramp = {0.0f, 1.0f};  // 1x2: black to white
  Canvas smooth(8, 1);
  smooth.blit(ImageView{ramp.data(), 1, 1, 2}, 0, 0, 8, 1, Resample::Bilinear);
  for (int x = 1; x < 8; ++x) CHECK(smooth.pixel(x, 0).r >= smooth.pixel(x - 1, 0).r);
  CHECK(smooth.pixel(0, 0).r == 0);
  CHECK(smooth.pixel(7, 0).r == 255);
  CHECK(smooth.pixel(3, 0).r > 0);
  CHECK(smooth.pixel(3, 0).r < 255);
  std::vector<float> four(4 * 4, 0.5f);
  CHECK_THROWS_AS(c.blit(ImageView{four.data(), 4, 2, 2}, 0, 0, 2, 2), nib::Error);
}

// ---- PNG -----------------------------------------------------------------------

TEST_CASE("save_png writes a PNG that reads back with the same pixels") {
  TempDir dir;
  Canvas c(37, 21, Color{10, 20, 30});
  c.fill_rect(5, 6, 3, 2, Color{200, 100, 50});
  std::string path = dir.file("round_trip.png");
  c.save_png(path);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  int w = 0, h = 0, channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &channels, 3);
  REQUIRE(data != nullptr);
  CHECK(w == 37);
  CHECK(h == 21);
  std::vector<uint8_t> loaded(data, data + w * h * 3);
  stbi_image_free(data);
  CHECK(loaded == c.pixels());
  CHECK(loaded[(6 * 37 + 5) * 3 + 0] == 200);
  CHECK(loaded[0] == 10);
}

TEST_CASE("save_png names the file when its directory does not exist") {
  TempDir dir;
  std::string path = dir.file("no_such_dir/picture.png");
  CHECK_THROWS_WITH_AS(Canvas(4, 4).save_png(path), doctest::Contains(path.c_str()), nib::Error);
  CHECK_THROWS_WITH_AS(plot_bar_chart(bar_chart({"a"}, {1.0}), path), doctest::Contains("does not exist"), nib::Error);
}

// ---- Ticks ---------------------------------------------------------------------

TEST_CASE("nice ticks are 1, 2 or 5 times a power of ten and cover the range") {
  const double ranges[][2] = {{0, 1},       {0.0213, 0.0871}, {-3.7, 12.2}, {1, 10},   {0.91, 0.995},
                              {-1e6, 3e6},  {1e-7, 3e-7},     {5, 5},       {0, 0},    {-2, -2},
                              {123, 124.5}, {2.5, 0.5}};
  for (const auto& range : ranges) {
    const double lo = range[0], hi = range[1]; // clang 14 cannot capture a structured binding in INFO
    Ticks t = nice_ticks(lo, hi, 6);
    INFO("range [" << lo << ", " << hi << "]");
    CHECK(is_nice_step(t.step));
    CHECK(t.lo <= std::min(lo, hi));
    CHECK(t.hi >= std::max(lo, hi));
    CHECK(t.hi > t.lo);
    CHECK(t.values.size() >= 2);
    CHECK(t.values.size() <= 12);
    CHECK(t.values.front() == doctest::Approx(t.lo));
    CHECK(t.values.back() == doctest::Approx(t.hi));
    for (size_t i = 0; i < t.values.size(); ++i) {
      CHECK(std::fabs(t.values[i] / t.step - std::round(t.values[i] / t.step)) < 1e-6);  // multiples of the step
      if (i > 0) CHECK(t.values[i] - t.values[i - 1] == doctest::Approx(t.step));
    }
  }
  CHECK(nice_ticks(0, 1).step == doctest::Approx(0.2));
  CHECK(nice_ticks(1, 3, 6, true).step == 1.0);  // epochs: never 0.5
  CHECK_THROWS_AS(nice_ticks(0, NAN), nib::Error);
  CHECK_THROWS_AS(nice_ticks(-INFINITY, 1), nib::Error);
}

TEST_CASE("nice_ceil and format_tick") {
  CHECK(nice_ceil(0.3) == doctest::Approx(0.5));
  CHECK(nice_ceil(1.0) == doctest::Approx(1.0));
  CHECK(nice_ceil(1.01) == doctest::Approx(2.0));
  CHECK(nice_ceil(7) == doctest::Approx(10.0));
  CHECK(format_tick(0.25, 0.05) == "0.25");
  CHECK(format_tick(0.2, 0.2) == "0.2");
  CHECK(format_tick(3, 1) == "3");
  CHECK(format_tick(1200, 200) == "1200");
  CHECK(format_tick(0.1 * 3 - 0.3, 0.1) == "0.0");  // not "-0.0" or "5.55e-17"
  CHECK(format_tick(-0.0, 1) == "0");
  CHECK(format_tick(2e-5, 1e-5) == "2e-05");
}

// ---- Charts --------------------------------------------------------------------

TEST_CASE("line chart draws each series in its colour") {
  LineChart chart;
  chart.title = "a line chart";
  chart.x_label = "step";
  chart.y_label = "value";
  chart.series = {series("up", {1, 2, 3, 4}, kRed), series("down", {4, 3, 2, 1}, Color{0, 0, 255}, true)};
  Canvas c = render_line_chart(chart);
  CHECK(c.width() == 800);
  CHECK(c.height() == 500);
  CHECK(count_pixels(c, kRed) > 300);
  CHECK(count_pixels(c, Color{0, 0, 255}) > 150);
}

TEST_CASE("line chart edge cases do not throw and keep the size") {
  std::vector<LineChart> charts(7);
  charts[0].series = {};                                                // nothing at all
  charts[1].series = {series("empty", {})};                      // an empty series
  charts[2].series = {series("nan", {1, NAN, 3, INFINITY, 2})};  // gaps
  charts[3].series = {series("one", {0.5})};                     // a single point
  charts[4].series = {series("flat", {2, 2, 2})};                // constant
  charts[5].series = {series("all nan", {NAN, NAN})};            // nothing finite
  charts[6].series = {series("outside", {-5, 0.5, 9})};          // cut by y_min/y_max
  charts[6].y_min = 0, charts[6].y_max = 1;
  for (size_t i = 0; i < charts.size(); ++i) {
    charts[i].width = 320, charts[i].height = 200;
    Canvas c = render_line_chart(charts[i]);
    INFO("chart " << i);
    CHECK(c.width() == 320);
    CHECK(c.height() == 200);
  }
  // The single point is visible as a marker.
  CHECK(count_pixels(render_line_chart(line_chart({series("one", {0.5}, kRed)})), kRed) > 10);
  LineChart bad = line_chart({series("bad", {1, 2, 3})});
  bad.series[0].xs = {1, 2};
  CHECK_THROWS_WITH_AS(render_line_chart(bad), doctest::Contains("bad"), nib::Error);
}

TEST_CASE("a series cut by y_max stays inside the plot area") {
  LineChart chart = line_chart({series("", {0, 100}, kRed)});
  chart.y_max = 1;
  Canvas c = render_line_chart(chart);
  // The margin above the plot is empty (tick labels are further left).
  for (int x = c.width() / 4; x < c.width(); ++x) {
    for (int y = 0; y < 10; ++y) CHECK(c.pixel(x, y) == kWhite);
  }
}

TEST_CASE("training history: two panels, or one without accuracy") {
  TrainingHistory h{{0.9, 0.5, 0.3}, {1.0, 0.6, 0.45}, {0.7, 0.85, 0.9}, {0.65, 0.8, 0.86}};
  Canvas both = render_training_history(h, "run 1");
  Canvas loss_only = render_training_history(TrainingHistory{{0.9, 0.5}, {}, {}, {}});
  CHECK(both.width() == 2 * loss_only.width());
  CHECK(both.height() > loss_only.height());  // room for the title
  CHECK(count_pixels(both, palette(0)) > count_pixels(loss_only, palette(0)));
  Canvas empty = render_training_history(TrainingHistory{});
  CHECK(empty.width() == loss_only.width());
  TempDir dir;
  plot_training_history(h, dir.file("history.png"));
  CHECK(fs::file_size(dir.file("history.png")) > 1000);
}

TEST_CASE("confusion matrix: darker cells for larger counts, text in cells") {
  ConfusionMatrix m;
  m.counts = {{50, 2, 0}, {5, 40, 5}, {0, 0, 48}};
  m.class_names = {"cat", "dog", "bird"};
  m.title = "3 classes";
  Canvas c = render_confusion_matrix(m);
  // Find the cells by colour; the scale runs from 0 to the largest count.
  double top = 50;
  CHECK(count_pixels(c, blues(0.0)) > 100);
  CHECK(count_pixels(c, blues(1.0)) > 100);  // the 50 is the darkest
  CHECK(count_pixels(c, blues(50 / top)) > 100);
  CHECK(count_pixels(c, blues(40 / top)) > 100);
  CHECK(luminance(blues(50 / top)) < luminance(blues(40 / top)));
  ConfusionMatrix normalized = m;
  normalized.normalize = true;
  Canvas n = render_confusion_matrix(normalized);
  CHECK(count_pixels(n, blues(1.0)) > 0);  // the bar's top: row fractions reach 1
}

TEST_CASE("confusion matrix handles 1 to 1000 classes") {
  for (int classes : {1, 3, 10, 20, 31, 100, 1000}) {
    std::vector<int64_t> flat(classes * classes, 1);
    for (int i = 0; i < classes; ++i) flat[i * classes + i] = 90;
    ConfusionMatrix m = ConfusionMatrix::from_flat(flat, classes);
    m.normalize = classes % 2 == 0;
    Canvas c = render_confusion_matrix(m);
    INFO(classes << " classes");
    CHECK(c.width() >= c.height() / 2);
    CHECK(c.width() < 1400);
    CHECK(c.height() < 1400);
  }
}

TEST_CASE("confusion matrix rejects inconsistent input") {
  ConfusionMatrix m;
  CHECK_THROWS_AS(render_confusion_matrix(m), nib::Error);
  m.counts = {{1, 2}, {3}};
  CHECK_THROWS_WITH_AS(render_confusion_matrix(m), doctest::Contains("square"), nib::Error);
  m.counts = {{1, 2}, {3, 4}};
  m.class_names = {"a", "b", "c"};
  CHECK_THROWS_WITH_AS(render_confusion_matrix(m), doctest::Contains("class names"), nib::Error);
  CHECK_THROWS_AS(ConfusionMatrix::from_flat({1, 2, 3}, 2), nib::Error);
}

TEST_CASE("image grid: layout, frames and captions") {
  ImageGrid grid;
  grid.title = "samples";
  grid.columns = 3;
  grid.cell_size = 56;
  for (int i = 0; i < 5; ++i) {
    Tensor image = i % 2 ? Tensor::full({3, 10, 20}, 0.5f) : Tensor::full({1, 28, 28}, 1.0f);
    grid.items.push_back(GridItem{image, {{"item " + std::to_string(i)}, {"second", kRed}}, i == 0 ? kGreen : kRed});
  }
  Canvas c = render_image_grid(grid);
  Canvas one_row = render_image_grid(ImageGrid{"samples", 3, 56, {grid.items[0], grid.items[1], grid.items[2]}});
  CHECK(c.width() == one_row.width());
  CHECK(c.height() > one_row.height());
  CHECK(count_pixels(c, kGreen) > 4 * 56);            // one green frame
  CHECK(count_pixels(c, Color{128, 128, 128}) > 0);   // the gray RGB images
  CHECK(count_pixels(c, kWhite) > 56 * 56);           // the white digits and the background
  CHECK_NOTHROW(render_image_grid(ImageGrid{"empty", 4, 32, {}}));
  ImageGrid bad{"bad", 2, 32, {GridItem{Tensor::zeros({2, 4, 4}), {}, {}}}};
  CHECK_THROWS_WITH_AS(render_image_grid(bad), doctest::Contains("channels"), nib::Error);
  bad.items[0].image = Tensor::zeros({1, 1, 4, 4});
  CHECK_THROWS_WITH_AS(render_image_grid(bad), doctest::Contains("[C, H, W]"), nib::Error);
}

TEST_CASE("bar chart: bars for finite values, negative values, reference line") {
  BarChart chart = bar_chart({"matmul", "conv2d", "a much longer benchmark name", "missing"}, {1.5, -0.4, 0.8, NAN});
  chart.title = "speed relative to PyTorch", chart.x_label = "benchmark", chart.y_label = "ratio";
  chart.reference = 1.0;
  Canvas c = render_bar_chart(chart);
  CHECK(c.width() == 800);
  CHECK(count_pixels(c, palette(0)) > 1000);
  CHECK_NOTHROW(render_bar_chart(BarChart{}));
  CHECK_THROWS_AS(render_bar_chart(bar_chart({"a", "b"}, {1.0})), nib::Error);
}
