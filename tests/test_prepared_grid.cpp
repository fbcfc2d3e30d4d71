// train/prepared_grid: the picture nib predict --show draws.
#include "datasets/mnist_style.h"
#include "tests/digit_drawings.h"
#include "tests/helpers.h"
#include "train/prepared_grid.h"

using namespace nib;
using namespace nib::data;
using nib::testing::drawn_seven;
using nib::testing::error_of;

TEST_CASE("prepare: the --show grid pairs each input with what the model saw") {
  Image seven = drawn_seven();
  std::vector<train::ShownInput> inputs = {
      {"a.png", seven, prepare_digit(seven), {{"7", 0.97f}, {"1", 0.02f}}, "7"},
      {"b.png", seven, prepare_digit(seven), {{"1", 0.6f}}, "7"},
      {"c.png", seven, prepare_digit(seven), {{"7", 0.9f}}, ""},
  };
  viz::ImageGrid grid = train::prepared_grid(inputs, "what basic-cnn saw", 2);
  REQUIRE(grid.items.size() == 6);
  CHECK(grid.columns == 4);
  CHECK(grid.items[0].captions[0].text == "a.png");
  CHECK(grid.items[1].captions[0].text == "7  97.0%");
  CHECK(grid.items[1].frame == viz::kGreen);
  CHECK(grid.items[3].frame == viz::kRed);
  CHECK(grid.items[5].frame == viz::kLightGray);  // no class known: only the page's edge
  CHECK(grid.items[1].image.shape() == Shape{1, 28, 28});
  viz::Canvas canvas = viz::render_image_grid(grid);
  CHECK(canvas.width() > 4 * 84);
  CHECK(error_of([] { train::prepared_grid({}, "t"); }).find("no inputs") != std::string::npos);
}
