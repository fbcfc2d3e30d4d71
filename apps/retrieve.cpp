// nib retrieve: the images of an index most similar to query images.
//
//   nib retrieve --index photos.nibindex --query cat.jpg --k 4 --out result.png
//   nib retrieve --index photos.nibindex --query queries/ --metric cosine --exclude-self
//
// Queries are embedded with exactly the settings the index was built with
// (read from its metadata), so a query that is in the database comes back
// first at distance 0 (--exclude-self leaves it out).
#include <cstdio>
#include <unordered_map>

#include "apps/commands.h"
#include "apps/common.h"
#include "kernels/runtime_flags.h"
#include "retrieval/indexing.h"
#include "retrieval/result_grid.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib retrieve --index FILE --query IMAGE|DIR [options]

Prints the k nearest images of the index for each query (rank, distance,
path) and draws them in a grid: one row per query, the query first.

  --index FILE       made by nib index
  --query Q          an image, a folder of images, or DATA:SPLIT (mnist:test)
  --k K              neighbours per query (default 4)
  --metric M         euclidean | cosine (default euclidean)
  --exclude-self     leave out the query itself when it is in the index
  --out FILE         the result grid (.png; default: retrieval.png)
  --max-rows N       queries drawn in the grid (default 16; all are printed)
  --cell-size N      pixels per image in the grid (default 96)
  --kernels SPEC, --threads N
)";

}  // namespace

int retrieve(int argc, char** argv) {
  Args args(argc, argv, 2, {"help", "exclude-self"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string index_path = args.require("index");
  std::string query = args.require("query");
  int64_t k = args.get_int("k", 4);
  retrieval::Metric metric = retrieval::parse_metric(args.get("metric", "euclidean"));
  bool exclude_self = args.flag("exclude-self");
  std::string out = args.get("out", "retrieval.png");
  int64_t max_rows = args.get_int("max-rows", 16);
  int64_t cell_size = args.get_int("cell-size", 96);
  kernels::apply_runtime_flags(args);
  args.finish();

  retrieval::ImageIndex index = retrieval::ImageIndex::load(index_path);
  int64_t candidates = index.size() - (exclude_self ? 1 : 0);
  NIB_CHECK(k >= 1 && k <= candidates, "--k ", k, " but ", index_path, " holds ", index.size(), " images",
            exclude_self ? " (one of them the query itself)" : "");
  retrieval::ImageSource queries = retrieval::open_image_source(query);
  if (auto prepared = index.extractor.find("prepare"); prepared != index.extractor.end() && !queries.in_memory())
    std::fprintf(stderr, "preparing images %s, as the index was made\n", prepared->second.c_str());
  Tensor features = retrieval::embed_like_index(index, queries, /*progress=*/queries.size() > 64);

  std::vector<int64_t> exclude;
  if (exclude_self) {  // the database row of each query's own file, if it is there
    std::unordered_map<std::string, int64_t> row_of;
    for (int64_t i = 0; i < index.size(); ++i) row_of[index.full_path(i)] = i;
    for (int64_t q = 0; q < queries.size(); ++q) {
      auto it = row_of.find(queries.full_path(q));
      exclude.push_back(it == row_of.end() ? -1 : it->second);
    }
  }
  auto results = retrieval::search(features, index.features, k, metric, exclude);

  for (int64_t q = 0; q < queries.size(); ++q) {
    std::printf("%s\n", queries.full_path(q).c_str());
    for (size_t r = 0; r < results[q].size(); ++r)
      std::printf("  %2zu  %.4f  %s\n", r + 1, results[q][r].distance, index.full_path(results[q][r].index).c_str());
  }
  viz::ImageGrid grid = retrieval::result_grid(index, queries, results, static_cast<int>(cell_size), max_rows);
  grid.title = std::string("nearest by ") + retrieval::metric_name(metric) + " distance";
  viz::plot_image_grid(grid, out);
  std::printf("grid: %s\n", out.c_str());
  return 0;
}

}  // namespace nib::apps
