// An image index: features of every image in a folder, with what is needed to
// search it, show results and keep it up to date. Stored as safetensors:
//
//   features  [N, D] float32      labels  [N] int32 (when the folder has class sub-folders)
//   __metadata__: format=nib-index-1, root, paths (JSON list, relative to root),
//                 class_names, file sizes and modification times (for --update),
//                 and extractor.* — model, weights, layer, preprocess, image size —
//                 so a query is always embedded exactly like the database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nib::retrieval {

struct ImageIndex {
  Tensor features;                       // [N, D] float32, CPU
  std::vector<std::string> paths;        // relative to root
  std::vector<int32_t> labels;           // empty when unlabelled
  std::vector<std::string> class_names;
  std::string root;
  std::vector<int64_t> file_sizes, file_times;  // per path, for incremental updates
  std::map<std::string, std::string> extractor;

  int64_t size() const { return features.defined() ? features.size(0) : 0; }
  bool labelled() const { return !labels.empty(); }
  std::string full_path(int64_t i) const;  // root/path, or "mnist:train#17" for data sets

  // Written atomically: a failed update never destroys a valid index.
  void save(const std::string& path) const;
  // Throws naming the file when it is not a nib index, truncated or inconsistent.
  static ImageIndex load(const std::string& path);
};

// An image file found under a folder, with its class (the first sub-folder) if any.
struct FoundImage {
  std::string relative_path;
  std::string class_name;  // "" for images directly in the root
  int64_t size = 0, time = 0;
};
// Walks `root` recursively for .jpg/.jpeg/.png/.bmp (any case), sorted by path.
std::vector<FoundImage> find_images(const std::string& root);

}  // namespace nib::retrieval
