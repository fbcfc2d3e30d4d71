#include "datasets/input_style.h"

#include <algorithm>
#include <vector>

#include "tensor/image_tensor.h"
#include "util/error.h"

namespace nib::data {

namespace {

// Of the images looked at, this fraction must agree for a set to have one polarity.
constexpr double kPolarityAgreement = 0.9;
constexpr int64_t kImagesMeasured = 2000;

const char* prepare_name(InputStyle::Prepare prepare) {
  switch (prepare) {
    case InputStyle::Prepare::None: return "none";
    case InputStyle::Prepare::Resize: return "resize";
    case InputStyle::Prepare::Mnist: return "mnist";
  }
  return "none";
}

// Image i of [N, C, H, W] as a gray Image.
Image gray_image(const Tensor& images, int64_t i) {
  return to_gray(tensor_to_image(images.slice_rows(i, i + 1)));
}

Image resized(const Image& image, int size) {
  return image.width == size && image.height == size ? image : resize(image, size, size);
}

}  // namespace

const char* polarity_name(Polarity polarity) {
  switch (polarity) {
    case Polarity::LightOnDark: return "light-on-dark";
    case Polarity::DarkOnLight: return "dark-on-light";
    case Polarity::Mixed: return "mixed";
  }
  return "mixed";
}

std::string InputStyle::describe() const {
  std::string ink = polarity == Polarity::DarkOnLight ? "dark ink on white" : "light ink on black";
  switch (prepare) {
    case Prepare::Mnist:
      return str("MNIST-style: ", ink, ", cropped to the ink, scaled into ", box, "x", box, ", centred by mass in ",
                 frame, "x", frame);
    case Prepare::Resize:
      if (polarity == Polarity::Mixed) return "resized to the model's input, as in training";
      return str("resized to the model's input and inverted unless ", ink, ", as in training");
    case Prepare::None: break;
  }
  return "resized to the model's input, nothing else";
}

json::Value InputStyle::to_json() const {
  json::Value v = json::Value::object();
  v["prepare"] = prepare_name(prepare);
  v["polarity"] = polarity_name(polarity);
  if (prepare == Prepare::Mnist) {
    v["frame"] = frame;
    v["box"] = box;
  }
  return v;
}

InputStyle InputStyle::from_json(const json::Value& value) {
  InputStyle style;
  std::string prepare = value.at("prepare").as_string();
  if (prepare == "mnist") style.prepare = Prepare::Mnist;
  else if (prepare == "resize") style.prepare = Prepare::Resize;
  else if (prepare == "none") style.prepare = Prepare::None;
  else fail("input.prepare '", prepare, "' is not mnist, resize or none");
  std::string polarity = value.at("polarity").as_string();
  if (polarity == "light-on-dark") style.polarity = Polarity::LightOnDark;
  else if (polarity == "dark-on-light") style.polarity = Polarity::DarkOnLight;
  else if (polarity == "mixed") style.polarity = Polarity::Mixed;
  else fail("input.polarity '", polarity, "' is not light-on-dark, dark-on-light or mixed");
  if (style.prepare == Prepare::Mnist) {
    style.frame = static_cast<int>(value.at("frame").as_int());
    style.box = static_cast<int>(value.at("box").as_int());
    NIB_CHECK(style.box >= 1 && style.box <= style.frame, "input.box ", style.box,
              " does not fit input.frame ", style.frame);
  }
  return style;
}

InputStyle measure_input_style(const Dataset& set, bool digits) {
  NIB_CHECK(set.size() > 0, "measure_input_style: the set is empty");
  const int64_t n = set.size(), looked_at = std::min(n, kImagesMeasured);
  int64_t light_backgrounds = 0;
  std::vector<int> ink_sides;
  for (int64_t k = 0; k < looked_at; ++k) {
    Image gray = gray_image(set.images, k * n / looked_at);
    bool light = has_light_background(gray);
    light_backgrounds += light;
    InkBox box = find_ink(light ? invert(gray) : gray);
    if (!box.empty()) ink_sides.push_back(std::max(box.width(), box.height()));
  }
  InputStyle style;
  if (light_backgrounds >= kPolarityAgreement * looked_at) style.polarity = Polarity::DarkOnLight;
  else if (light_backgrounds <= (1 - kPolarityAgreement) * looked_at) style.polarity = Polarity::LightOnDark;
  const bool square_gray = set.images.size(1) == 1 && set.images.size(2) == set.images.size(3);
  if (digits && square_gray && style.polarity != Polarity::Mixed && !ink_sides.empty()) {
    style.prepare = InputStyle::Prepare::Mnist;
    style.frame = static_cast<int>(set.images.size(2));
    std::nth_element(ink_sides.begin(), ink_sides.begin() + ink_sides.size() / 2, ink_sides.end());
    style.box = ink_sides[ink_sides.size() / 2];
  }
  return style;
}

InputStyle choose_preparation(const std::string& option, const InputStyle& recorded) {
  if (option == "auto") return recorded;
  if (option == "none") return InputStyle::none();
  if (option == "mnist") {
    if (recorded.prepare == InputStyle::Prepare::Mnist) return recorded;
    // MNIST's frame and box, in the polarity the model was trained on when it has one.
    return InputStyle::mnist(28, 20, recorded.polarity == Polarity::DarkOnLight ? Polarity::DarkOnLight
                                                                               : Polarity::LightOnDark);
  }
  fail("--prepare expects auto, mnist or none, got '", option, "'");
}

Image prepare_image(const Image& image, const InputStyle& style, int channels, int size, const std::string& name) {
  NIB_CHECK(channels == 1 || channels == 3, name, ": a model input has 1 or 3 channels, not ", channels);
  NIB_CHECK(size >= 1, name, ": a model input needs a positive size, not ", size);
  if (style.prepare == InputStyle::Prepare::Mnist)
    return resized(convert_channels(prepare_digit(image, style.digit_frame(), name), channels), size);
  // As the training images were loaded (util/image.h drops alpha), then resized.
  Image input = resized(convert_channels(image, channels), size);
  if (style.prepare == InputStyle::Prepare::Resize && style.polarity != Polarity::Mixed &&
      has_light_background(to_gray(input)) != (style.polarity == Polarity::DarkOnLight))
    input = invert(input);
  return input;
}

}  // namespace nib::data
