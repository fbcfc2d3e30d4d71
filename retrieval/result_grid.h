// A picture of retrieval results: one row per query, the query first
// (captioned "query"), then its neighbours nearest first, each captioned with
// its rank and distance. The images are the original files (not the network's
// resized inputs), shrunk for display. When the queries and the index are
// labelled, neighbours of the query's class are framed green, others red.
#pragma once

#include <vector>

#include "retrieval/image_source.h"
#include "retrieval/index.h"
#include "retrieval/search.h"
#include "viz/plots.h"

namespace nib::retrieval {

// results[q] are the neighbours of queries' item q (search()'s output);
// only the first max_rows queries are drawn.
viz::ImageGrid result_grid(const ImageIndex& index, const ImageSource& queries,
                           const std::vector<std::vector<Neighbour>>& results, int cell_size = 96,
                           int64_t max_rows = 16);

}  // namespace nib::retrieval
