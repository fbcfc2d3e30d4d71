// Image files as nib's loaders read them: util/image.h's load_image (stb_image
// behind nib's own checks), then what nib predict does to a photographed digit
// (datasets/input_style.h: MNIST-style preparation) or to a folder image
// (a plain resize). The input's size picks the channels asked for, so one
// corpus covers all three paths.
#include "datasets/input_style.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"
#include "util/image.h"

NIB_FUZZ_TARGET(image) {
  static const int kChannels[] = {0, 1, 3};
  const int channels = kChannels[size % 3];
  nib::fuzz::InputFile file("image", data, size);
  nib::Image image = nib::load_image(file.path(), channels);
  // Preparation cost grows with the pixels; past this the decoder is what is being tested.
  if (static_cast<size_t>(image.width) * image.height > 512 * 512) return;
  nib::data::prepare_image(image, nib::data::InputStyle::mnist(), 1, 28, file.path());
  nib::data::prepare_image(image, nib::data::InputStyle{}, 3, 32, file.path());
}
