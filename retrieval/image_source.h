// The images an index, or a set of queries, is made of. A source is named by
// one string:
//
//   a folder       every .jpg/.jpeg/.png/.bmp below it (any case), in path
//                  order; an image's class is its first sub-folder, so a folder
//                  of class folders is labelled (and one with loose images is not)
//   an image file  that image alone, unlabelled
//   DATA:SPLIT     a labelled data set held in memory: DATA is anything
//                  `nib train --data` reads as IDX files ("mnist", a folder of
//                  IDX files), SPLIT is train or test ("mnist:test");
//                  DATA:SPLIT:N keeps its first N items ("mnist:train:10000")
//
// Items are named by a path relative to `root` (files) or by their number in
// the data set, so an index can show the original images of its results.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "retrieval/features.h"
#include "util/image.h"

namespace nib::retrieval {

struct ImageSource {
  std::string root;                      // the folder (absolute), or the DATA:SPLIT spec
  std::vector<std::string> paths;        // per item: relative to root, or "17" (the item number)
  std::vector<int64_t> sizes, times;     // file size and modification time (µs); 0 for data sets
  std::vector<std::string> class_names;  // sorted class folder names, or the data set's classes
  std::vector<int32_t> labels;           // per item; empty when unlabelled
  Tensor images;                         // data sets only: [N, C, H, W] in [0, 1]

  int64_t size() const { return static_cast<int64_t>(paths.size()); }
  bool labelled() const { return !labels.empty(); }
  bool in_memory() const { return images.defined(); }
  std::string full_path(int64_t i) const;  // the file, or "mnist:test#17"
};

// True for "DATA:train" / "DATA:test[:N]" specs that do not name an existing file or folder.
bool is_data_set_spec(const std::string& spec);

// Throws naming the spec when it is missing, an empty folder, or an unknown data set.
ImageSource open_image_source(const std::string& spec);

// The items `which` of a source (all when empty) through the extractor: [n, D].
Tensor extract_features(FeatureExtractor& extractor, const ImageSource& source, const std::vector<int64_t>& which = {},
                        bool progress = true);

// Original images for display, each shrunk (PIL bilinear) so its longer side
// is at most max_side: items of a folder root, or of a DATA:SPLIT root.
std::vector<Image> load_originals(const std::string& root, const std::vector<std::string>& paths, int max_side);

}  // namespace nib::retrieval
