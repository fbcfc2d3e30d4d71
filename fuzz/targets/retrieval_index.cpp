// The retrieval index (retrieval/index.h): safetensors whose metadata holds
// JSON lists that must agree with the tensors.
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"
#include "retrieval/index.h"

NIB_FUZZ_TARGET(retrieval_index) {
  nib::fuzz::InputFile file("index.safetensors", data, size);
  nib::retrieval::ImageIndex::load(file.path());
}
