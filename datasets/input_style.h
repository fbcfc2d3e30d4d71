// How a model's training images look, so that images given to it later (a
// digit someone drew or photographed) can be prepared to look the same.
// nib train measures it on the training set and records it in the run's
// config.json; nib predict, eval and retrieve apply it to image files:
//
//   "input": {"prepare": "mnist", "polarity": "light-on-dark", "frame": 28, "box": 20}
//       MNIST-like data (MNIST, Fashion-MNIST, Kaggle digit CSVs, any gray
//       square IDX): MNIST-style preparation (mnist_style.h) into that frame
//       and box, then resized to the model's input if it is larger.
//   "input": {"prepare": "resize", "polarity": "dark-on-light"}
//       image folders: resized to the model's input as in training, and
//       inverted when an image's background is the opposite of the training
//       set's (polarity "mixed": never).
//   "none": resized only (--prepare none), as nib did before it prepared images.
#pragma once

#include <string>

#include "datasets/dataset.h"
#include "datasets/mnist_style.h"
#include "util/json.h"

namespace nib::data {

enum class Polarity { LightOnDark, DarkOnLight, Mixed };
const char* polarity_name(Polarity polarity);  // "light-on-dark", "dark-on-light", "mixed"

struct InputStyle {
  enum class Prepare { None, Resize, Mnist };
  Prepare prepare = Prepare::Resize;
  Polarity polarity = Polarity::Mixed;
  int frame = 28, box = 20;  // mnist: the training images' side, and the longer side of their ink

  static InputStyle none() { return InputStyle{Prepare::None}; }
  static InputStyle mnist(int frame = 28, int box = 20, Polarity polarity = Polarity::LightOnDark) {
    return InputStyle{Prepare::Mnist, polarity, frame, box};
  }
  DigitFrame digit_frame() const { return DigitFrame{frame, box, polarity != Polarity::DarkOnLight}; }
  // For the line nib prints before preparing images: "MNIST-style: ...".
  std::string describe() const;

  // config.json's "input"; from_json throws naming the bad field.
  json::Value to_json() const;
  static InputStyle from_json(const json::Value& value);
};

// The polarity of a set ([N, C, H, W] in [0, 1]) and, for a set of `digits`
// (IDX or CSV data, gray and square) whose polarity is clear, its frame and
// the typical size of its ink (the median longer side of each image's ink
// box). Up to 2000 images, spread over the set, are looked at.
InputStyle measure_input_style(const Dataset& set, bool digits);

// What --prepare asks for, given the style a run recorded:
//   auto   the recorded style
//   mnist  MNIST-style (the recorded frame and box when it is mnist already,
//          else MNIST's, in the recorded polarity: dark on light stays so)
//   none   resized only
InputStyle choose_preparation(const std::string& option, const InputStyle& recorded);

// An image as stored (any channels, alpha kept) made into a model's input:
// `channels` (1 or 3) x size x size. `name` (the file) starts error messages,
// e.g. for an image without a digit.
Image prepare_image(const Image& image, const InputStyle& style, int channels, int size, const std::string& name);

}  // namespace nib::data
