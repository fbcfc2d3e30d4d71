// The basic CNN's blocks: how many nib train chooses by input size, and that
// a model with more blocks is built, named and shaped as its header says.
#include <doctest/doctest.h>

#include "models/basic_cnn.h"
#include "models/registry.h"
#include "tests/helpers.h"

using namespace nib;
using nib::testing::error_of;
using nib::testing::random_tensor;

TEST_CASE("basic_cnn_blocks_for: the fewest blocks that leave at most 16x16 before the dense layer") {
  models::BasicCnnConfig c;
  c.image_size = 28;  // 24 -> 12 -> 8 -> 4
  CHECK(models::basic_cnn_blocks_for(c) == 2);
  c.image_size = 64;  // 60 -> 30 -> 26 -> 13
  CHECK(models::basic_cnn_blocks_for(c) == 2);
  c.image_size = 79;  // 75 -> 37 -> 33 -> 16
  CHECK(models::basic_cnn_blocks_for(c) == 2);
  c.image_size = 80;  // ... -> 17 after two: the smallest input that takes three (README, nib train --help)
  CHECK(models::basic_cnn_blocks_for(c) == 3);
  c.image_size = 100;  // ... -> 22 after two, 9 after three
  CHECK(models::basic_cnn_blocks_for(c) == 3);
  c.image_size = 224;  // 53, 24, 10
  CHECK(models::basic_cnn_blocks_for(c) == 4);
  c.same_padding = true;
  c.image_size = 100;  // 50 -> 25 -> 12
  CHECK(models::basic_cnn_blocks_for(c) == 3);
  c.same_padding = false;
  c.image_size = 32;  // 14 -> 5, and a third block would leave nothing: two, though 5 > 4
  CHECK(models::basic_cnn_blocks_for(c, 4) == 2);
  c.image_size = 60;  // 28 -> 12 -> 4, then nothing: stops at the last block that fits
  CHECK(models::basic_cnn_blocks_for(c, 1) == 3);
}

TEST_CASE("size_chosen_options: basic-cnn at 100x100 takes three blocks unless told") {
  models::ModelSpec spec{"basic-cnn", 1, 100, 3, {}};
  CHECK(models::size_chosen_options(spec) == std::map<std::string, std::string>{{"blocks", "3"}});
  spec.options["blocks"] = "2";
  CHECK(models::size_chosen_options(spec).empty());
  CHECK(models::size_chosen_options({"basic-cnn", 1, 28, 10, {}}).empty());
  CHECK(models::size_chosen_options({"basic-cnn", 1, 64, 3, {}}).empty());
  CHECK(models::size_chosen_options({"mlp", 1, 100, 3, {}}).empty());
}

TEST_CASE("basic-cnn with three blocks: names, parameters and output shape") {
  models::ModelSpec spec{"basic-cnn", 1, 100, 3, {{"blocks", "3"}}};
  ModulePtr model = models::build_model(spec);
  // conv 1x32x5x5, conv 32x64x5x5, conv 64x64x5x5, dense 9*9*64 -> 128, dense 128 -> 3 (with biases).
  const int64_t expected = (32 * 25 + 32) + (64 * 32 * 25 + 64) + (64 * 64 * 25 + 64) + (9 * 9 * 64 * 128 + 128) +
                           (128 * 3 + 3);
  CHECK(model->parameter_count() == expected);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : model->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias",
                                          "10.weight", "10.bias", "13.weight", "13.bias"});
  model->eval();
  Tensor y = model->forward(random_tensor({2, 1, 100, 100}, 7));
  CHECK(y.shape() == Shape{2, 3});

  CHECK(error_of([] { models::build_model({"basic-cnn", 1, 100, 3, {{"blocks", "1"}}}); })
            .find("blocks must be at least 2") != std::string::npos);
  CHECK(error_of([] { models::build_model({"basic-cnn", 1, 28, 10, {{"blocks", "3"}}}); })
            .find("too small for 3 5x5 convolutions") != std::string::npos);
}
