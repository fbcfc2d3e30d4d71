// Making an index from a source of images, keeping it up to date, and
// embedding queries exactly the way an index was made.
#pragma once

#include <cstdint>

#include "retrieval/features.h"
#include "retrieval/image_source.h"
#include "retrieval/index.h"

namespace nib::retrieval {

struct IndexUpdate {
  int64_t reused = 0, extracted = 0, removed = 0;
};

// Pixels of a data set in memory keep its own size and channels (28x28 gray
// for MNIST) unless the options say otherwise.
ExtractorOptions fit_to_source(ExtractorOptions options, const ImageSource& source);

// An index of every image of `source`, with its labels when it has them.
//
// With `previous` (nib index --update) only new or changed files are
// extracted: a file whose size and modification time equal the ones stored
// in `previous` keeps its feature row, and files that are gone are dropped.
// Throws when `previous` was made by another extractor (the rows would not be
// comparable) or from another root folder.
ImageIndex build_index(const ImageSource& source, FeatureExtractor& extractor, const ImageIndex* previous = nullptr,
                       IndexUpdate* update = nullptr, bool progress = true);

// The extractor an index was made with, rebuilt from its metadata.
FeatureExtractor extractor_of(const ImageIndex& index);

// Features of `source`'s images made exactly like the index's (same model,
// layer, input size, crop, normalisation). Throws when they do not have the
// index's dimension, e.g. when the weights file changed since the index was built.
Tensor embed_like_index(const ImageIndex& index, const ImageSource& source, bool progress = true);

// The labels of a source's images as numbers of the index's classes (matched
// by class name); -1 for a class the index does not have. Empty when either
// is unlabelled.
std::vector<int32_t> labels_in_index(const ImageIndex& index, const ImageSource& source);

// "mobilenet_v2 layer avgpool, 224x224, L2-normalised": one line for messages.
std::string describe_extractor(const std::map<std::string, std::string>& description);

}  // namespace nib::retrieval
