// PyTorch .pth files: the zip archive (tensor/zip_archive.h), its pickle
// (tensor/pickle.h) and the tensors rebuilt from both (tensor/torch_checkpoint.h).
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"
#include "tensor/torch_checkpoint.h"

NIB_FUZZ_TARGET(torch_checkpoint) {
  nib::fuzz::InputFile file("model.pth", data, size);
  nib::load_torch_checkpoint(file.path());
}
