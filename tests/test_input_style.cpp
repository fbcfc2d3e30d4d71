// datasets/input_style and its record in a run directory: measuring how a
// training set looks, choosing and applying the preparation of image files,
// and runs written before the record existed.
#include <filesystem>

#include "datasets/input_style.h"
#include "datasets/mnist.h"
#include "tensor/image_tensor.h"
#include "tests/digit_drawings.h"
#include "tests/helpers.h"
#include "tests/shared_data.h"
#include "tests/temp_dir.h"
#include "train/run_dir.h"
#include "train/training_data.h"
#include "util/files.h"
#include "util/json.h"

using namespace nib;
using namespace nib::data;
using nib::testing::draw_ring;
using nib::testing::drawn_seven;
using nib::testing::error_of;
using nib::testing::paper;

namespace {

// n ring digits of `box` pixels in a frame x frame square, light on dark
// unless `dark_on_light`, as a set [n, 1, frame, frame].
Dataset ring_set(int n, int frame, int box, bool dark_on_light) {
  std::vector<float> pixels;
  for (int i = 0; i < n; ++i) {
    Image image = paper(frame, frame, dark_on_light ? 1.0f : 0.0f);
    double ry = box / 2.0 - 1, rx = ry * (0.5 + 0.05 * (i % 5));
    draw_ring(image, frame / 2.0, frame / 2.0, rx, ry, 2, dark_on_light ? 0.0f : 1.0f);
    pixels.insert(pixels.end(), image.pixels.begin(), image.pixels.end());
  }
  Dataset set;
  set.images = Tensor::from_vector(pixels, {n, 1, frame, frame});
  return set;
}

Dataset concat_sets(const Dataset& a, const Dataset& b) {
  std::vector<float> pixels = a.images.to_vector(), more = b.images.to_vector();
  pixels.insert(pixels.end(), more.begin(), more.end());
  Shape shape = a.images.shape();
  shape[0] += b.size();
  Dataset set;
  set.images = Tensor::from_vector(pixels, shape);
  return set;
}

}  // namespace

TEST_CASE("prepare: measure_input_style reads polarity, frame and box from a training set") {
  InputStyle mnist_like = measure_input_style(ring_set(40, 28, 20, false), /*digits=*/true);
  CHECK(mnist_like.prepare == InputStyle::Prepare::Mnist);
  CHECK(mnist_like.polarity == Polarity::LightOnDark);
  CHECK(mnist_like.frame == 28);
  CHECK(mnist_like.box >= 19);
  CHECK(mnist_like.box <= 20);

  InputStyle inverted = measure_input_style(ring_set(40, 32, 24, true), true);
  CHECK(inverted.prepare == InputStyle::Prepare::Mnist);
  CHECK(inverted.polarity == Polarity::DarkOnLight);
  CHECK(inverted.frame == 32);
  CHECK(inverted.box >= 23);

  // An image folder is resized, whatever it holds; its polarity is kept.
  InputStyle folder = measure_input_style(ring_set(40, 64, 40, true), /*digits=*/false);
  CHECK(folder.prepare == InputStyle::Prepare::Resize);
  CHECK(folder.polarity == Polarity::DarkOnLight);
  // Half and half: no polarity, so no MNIST-style preparation either.
  InputStyle mixed = measure_input_style(concat_sets(ring_set(20, 28, 20, false), ring_set(20, 28, 20, true)), true);
  CHECK(mixed.prepare == InputStyle::Prepare::Resize);
  CHECK(mixed.polarity == Polarity::Mixed);
}

TEST_CASE("prepare: the style recorded for MNIST is MNIST's: light on dark, 28x28, a 20-pixel box" *
          doctest::skip(!nib::testing::has_shared_data("mnist"))) {
  InputStyle style = measure_input_style(load_mnist(nib::testing::shared_data_dir() + "/mnist").train, true);
  CHECK(style.prepare == InputStyle::Prepare::Mnist);
  CHECK(style.polarity == Polarity::LightOnDark);
  CHECK(style.frame == 28);
  CHECK(style.box >= 19);
  CHECK(style.box <= 20);
}

TEST_CASE("prepare: an input style survives config.json, and bad records are named") {
  InputStyle style = InputStyle::mnist(32, 24, Polarity::DarkOnLight);
  json::Value v = json::parse(json::dump(style.to_json(), 2), "test");
  InputStyle back = InputStyle::from_json(v);
  CHECK(back.prepare == style.prepare);
  CHECK(back.polarity == style.polarity);
  CHECK(back.frame == 32);
  CHECK(back.box == 24);
  CHECK(InputStyle::from_json(InputStyle{}.to_json()).prepare == InputStyle::Prepare::Resize);

  v["prepare"] = "crop";
  CHECK(error_of([&] { InputStyle::from_json(v); }).find("input.prepare 'crop'") != std::string::npos);
  v["prepare"] = "mnist";
  v["box"] = 40;
  CHECK(error_of([&] { InputStyle::from_json(v); }).find("input.box 40") != std::string::npos);
}

TEST_CASE("prepare: --prepare chooses between the run's record, MNIST-style and a plain resize") {
  InputStyle recorded = InputStyle::mnist(28, 19);
  CHECK(choose_preparation("auto", recorded).box == 19);
  CHECK(choose_preparation("none", recorded).prepare == InputStyle::Prepare::None);
  CHECK(choose_preparation("mnist", recorded).box == 19);
  InputStyle folder{InputStyle::Prepare::Resize, Polarity::DarkOnLight};
  CHECK(choose_preparation("mnist", folder).prepare == InputStyle::Prepare::Mnist);
  CHECK(choose_preparation("mnist", folder).box == 20);
  CHECK(choose_preparation("mnist", folder).polarity == Polarity::DarkOnLight);  // as the model was trained
  CHECK(choose_preparation("mnist", InputStyle{}).polarity == Polarity::LightOnDark);
  CHECK(error_of([&] { choose_preparation("yes", folder); }) == "--prepare expects auto, mnist or none, got 'yes'");
}

TEST_CASE("prepare: prepare_image makes any image file the model's input") {
  Image seven = drawn_seven();
  Image mnist = prepare_image(seven, InputStyle::mnist(), 1, 28, "seven.png");
  CHECK(mnist.pixels == prepare_digit(seven).pixels);
  // A bigger or colour model input: prepared at MNIST's size, then resized, as its training digits were.
  Image rgb = prepare_image(seven, InputStyle::mnist(), 3, 56, "seven.png");
  CHECK(rgb.width == 56);
  CHECK(rgb.channels == 3);

  // An image-folder model trained on dark digits on white: a light-on-dark image is inverted to match.
  InputStyle dark_on_light{InputStyle::Prepare::Resize, Polarity::DarkOnLight};
  Image chalk = invert(seven);
  Image matched = prepare_image(chalk, dark_on_light, 1, 64, "chalk.png");
  CHECK(matched.width == 64);
  CHECK(matched.at(0, 0, 0) == doctest::Approx(1.0));
  CHECK(prepare_image(seven, dark_on_light, 1, 64, "x").at(0, 0, 0) == doctest::Approx(1.0));
  // Mixed polarity, or --prepare none: resized only.
  CHECK(prepare_image(chalk, InputStyle{}, 1, 64, "x").at(0, 0, 0) == doctest::Approx(0.0));
  CHECK(prepare_image(chalk, InputStyle::none(), 1, 64, "x").pixels == resize(chalk, 64, 64).pixels);

  CHECK(error_of([] { prepare_image(paper(28, 28, 1.0f), InputStyle::mnist(), 1, 28, "white.png"); })
            .find("white.png: no digit found") == 0);
}

TEST_CASE("prepare: run directories record their input style; older ones get a sensible default") {
  nib::testing::TempDir dir;
  train::RunInfo info;
  info.model = {"basic-cnn", 1, 28, 10, {}};
  info.class_names = numbered_classes(10);
  info.data = "mnist";
  info.input = InputStyle::mnist(28, 19);
  train::save_run_info(dir.path(), info);
  train::RunInfo loaded = train::load_run_info(dir.path());
  CHECK(loaded.input.prepare == InputStyle::Prepare::Mnist);
  CHECK(loaded.input.box == 19);

  // config.json as nib wrote it before: no "input".
  json::Value v = json::parse(read_file(dir.path() + "/config.json"), "config.json");
  json::Object without;
  for (auto& [key, value] : v.as_object())
    if (key != "input") without.emplace_back(key, value);
  nib::testing::write_text(dir.path() + "/config.json", json::dump(json::Value(without), 2));
  train::RunInfo old = train::load_run_info(dir.path());
  CHECK(old.input.prepare == InputStyle::Prepare::Mnist);
  CHECK(old.input.box == 20);

  info.data = "train.csv";
  CHECK(train::legacy_input_style(info).prepare == InputStyle::Prepare::Mnist);
  info.data = dir.path();  // neither IDX files nor a CSV
  CHECK(train::legacy_input_style(info).prepare == InputStyle::Prepare::Resize);
  info.data = "mnist";
  info.model.in_channels = 3;  // a colour model was not trained on MNIST as it is
  CHECK(train::legacy_input_style(info).prepare == InputStyle::Prepare::Resize);

  v["input"]["polarity"] = "sideways";
  nib::testing::write_text(dir.path() + "/config.json", json::dump(v, 2));
  CHECK(error_of([&] { train::load_run_info(dir.path()); }).find("input.polarity 'sideways'") != std::string::npos);
}

TEST_CASE("prepare: a labelled folder of drawings is prepared for evaluation") {
  nib::testing::TempDir dir;
  save_image(drawn_seven(), dir.file("digits/7/a.png"));
  save_image(invert(drawn_seven(70, 60, 5)), dir.file("digits/7/b.png"));
  Image blank = paper(30, 30, 1.0f);
  save_image(drawn_seven(), dir.file("digits/1/c.png"));

  Dataset prepared = train::load_evaluation_data(dir.file("digits"), 28, 1, InputStyle::mnist());
  REQUIRE(prepared.size() == 3);
  CHECK(prepared.class_names == std::vector<std::string>{"1", "7"});
  Tensor first = prepared.images.slice_rows(0, 1);
  CHECK(first.to_vector() == image_to_tensor(prepare_digit(drawn_seven())).to_vector());
  Dataset plain = train::load_evaluation_data(dir.file("digits"), 28, 1);
  CHECK(plain.images.to_vector() != prepared.images.to_vector());

  save_image(blank, dir.file("digits/1/blank.png"));
  CHECK(error_of([&] { train::load_evaluation_data(dir.file("digits"), 28, 1, InputStyle::mnist()); })
            .find("blank.png: no digit found") != std::string::npos);
}
