#include "train/prepared_grid.h"

#include <cmath>
#include <cstdio>

#include "datasets/mnist_style.h"
#include "tensor/image_tensor.h"

namespace nib::train {

namespace {

// Gray stays gray, colour stays colour; transparency is shown as white paper.
Tensor displayable(const Image& image) {
  Image flat = data::flatten_alpha(image);
  return image_to_tensor(convert_channels(flat, flat.channels == 1 ? 1 : 3));
}

std::string percent(const std::string& name, float probability) {
  char text[64];
  std::snprintf(text, sizeof text, "%s  %.1f%%", name.c_str(), 100.0 * probability);
  return text;
}

}  // namespace

viz::ImageGrid prepared_grid(const std::vector<ShownInput>& inputs, const std::string& title, int pairs_per_row,
                             int cell_size) {
  NIB_CHECK(!inputs.empty(), "prepared_grid: no inputs to draw");
  NIB_CHECK(pairs_per_row >= 1, "prepared_grid: pairs_per_row must be positive, got ", pairs_per_row);
  viz::ImageGrid grid;
  grid.title = title;
  grid.columns = 2 * pairs_per_row;
  grid.cell_size = cell_size;
  for (const ShownInput& input : inputs) {
    // Light frames show where a white page ends; green and red say right and wrong.
    viz::GridItem original{displayable(input.original), {{input.name, viz::kDarkGray}}, viz::kLightGray};
    if (!input.expected.empty()) original.captions.push_back({"class " + input.expected, viz::kDarkGray});
    viz::GridItem prepared{displayable(input.prepared), {}, viz::kLightGray};
    for (const auto& [name, probability] : input.top) prepared.captions.push_back({percent(name, probability)});
    if (!input.expected.empty() && !input.top.empty())
      prepared.frame = input.top.front().first == input.expected ? viz::kGreen : viz::kRed;
    grid.items.push_back(original);
    grid.items.push_back(prepared);
  }
  return grid;
}

}  // namespace nib::train
