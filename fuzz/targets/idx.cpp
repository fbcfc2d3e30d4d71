// IDX files (MNIST and its relatives), plain or gzipped: datasets/mnist.h,
// datasets/gz_reader.h. The magic number decides which loader accepts it.
#include "datasets/mnist.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"

NIB_FUZZ_TARGET(idx) {
  nib::fuzz::InputFile file("train-images-idx3-ubyte.gz", data, size);
  try {
    nib::data::load_idx_images(file.path());
  } catch (const nib::Error&) {
  }
  nib::data::load_idx_labels(file.path());
}
