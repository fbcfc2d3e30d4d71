#include "retrieval/result_grid.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "retrieval/indexing.h"
#include "tensor/image_tensor.h"

namespace nib::retrieval {

namespace {

// A short name for a caption: the class when there is one, else the file name.
std::string item_name(const ImageIndex& index, int64_t row) {
  if (index.labelled()) return index.class_names.at(index.labels.at(row));
  return std::filesystem::path(index.paths.at(row)).filename().string();
}

}  // namespace

viz::ImageGrid result_grid(const ImageIndex& index, const ImageSource& queries,
                           const std::vector<std::vector<Neighbour>>& results, int cell_size, int64_t max_rows) {
  NIB_CHECK(static_cast<int64_t>(results.size()) == queries.size(), "result_grid: ", results.size(), " results for ",
            queries.size(), " queries");
  int64_t rows = std::min<int64_t>(max_rows, queries.size());
  size_t k = results.empty() ? 0 : results[0].size();
  std::vector<int32_t> query_labels = labels_in_index(index, queries);

  // Originals, loaded once per root: the queries' and the neighbours'.
  std::vector<std::string> query_paths(queries.paths.begin(), queries.paths.begin() + rows), found_paths;
  for (int64_t q = 0; q < rows; ++q)
    for (const Neighbour& n : results[q]) found_paths.push_back(index.paths.at(n.index));
  std::vector<Image> query_images = load_originals(queries.root, query_paths, cell_size);
  std::vector<Image> found_images = load_originals(index.root, found_paths, cell_size);

  viz::ImageGrid grid;
  grid.columns = static_cast<int>(k + 1);
  grid.cell_size = cell_size;
  for (int64_t q = 0, next = 0; q < rows; ++q) {
    viz::GridItem query{image_to_tensor(query_images[q]), {{"query"}}, std::nullopt};
    if (!query_labels.empty()) query.captions.push_back({queries.class_names.at(queries.labels[q]), viz::kDarkGray});
    grid.items.push_back(query);
    for (size_t r = 0; r < results[q].size(); ++r) {
      const Neighbour& n = results[q][r];
      char text[64];
      std::snprintf(text, sizeof text, "#%zu  %.4f", r + 1, n.distance);
      viz::GridItem item{image_to_tensor(found_images[next++]), {{text}, {item_name(index, n.index), viz::kDarkGray}},
                         std::nullopt};
      if (!query_labels.empty()) item.frame = index.labels[n.index] == query_labels[q] ? viz::kGreen : viz::kRed;
      grid.items.push_back(item);
    }
  }
  return grid;
}

}  // namespace nib::retrieval
