// safetensors files (weights, nib's checkpoints): formats/safetensors.h.
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"
#include "formats/safetensors.h"

NIB_FUZZ_TARGET(safetensors) {
  nib::fuzz::InputFile file("model.safetensors", data, size);
  nib::load_safetensors(file.path());
}
