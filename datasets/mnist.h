// MNIST and other sets in LeCun's IDX format (Fashion-MNIST, KMNIST use the
// same files). A file is a big-endian header, magic 0x0000 08 <ndim> (08 =
// unsigned bytes), then ndim 32-bit sizes, then the bytes row-major:
//   images: magic 2051, count, rows, cols, count*rows*cols pixels
//   labels: magic 2049, count, count labels
// Files may be gzipped (as published) or plain.
#pragma once

#include <string>

#include "datasets/dataset.h"

namespace nib::data {

// [N, 1, rows, cols] float32, pixels / 255.
Tensor load_idx_images(const std::string& path);
// [N] int32.
Tensor load_idx_labels(const std::string& path);

struct MnistData {
  Dataset train, test;
};

// Loads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte from `dir`, each with or without .gz (and the
// "train-images.idx3-ubyte" spelling some copies use). Class names are "0".."9"
// (or up to the largest label for other IDX sets).
MnistData load_mnist(const std::string& dir);

// The path of IDX file `stem` ("train-images-idx3-ubyte") in `dir`, trying the
// usual spellings; empty when there is none.
std::string find_idx_file(const std::string& dir, const std::string& stem);

}  // namespace nib::data
