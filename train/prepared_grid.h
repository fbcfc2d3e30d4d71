// The picture `nib predict --show` draws, to show what the model saw: each
// input as it was given (transparent pixels on white), beside the prepared
// image the model read, captioned with its top classes. When an input's class
// is known (it sits in a folder named after one), the prepared image is framed
// green when the top class is right and red when it is wrong; other frames are
// light grey, to show where a white image ends.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "util/image.h"
#include "viz/plots.h"

namespace nib::train {

struct ShownInput {
  std::string name;      // under the original: the file name
  Image original;        // as loaded, any channels (alpha included)
  Image prepared;        // the model's input
  std::vector<std::pair<std::string, float>> top;  // class names and probabilities, best first
  std::string expected;  // the true class, "" when unknown
};

// Two cells per input, `pairs_per_row` inputs per row.
viz::ImageGrid prepared_grid(const std::vector<ShownInput>& inputs, const std::string& title, int pairs_per_row = 4,
                             int cell_size = 84);

}  // namespace nib::train
