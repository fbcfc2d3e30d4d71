// PyTorch .pth files: the zip archive (formats/zip_archive.h), its pickle
// (formats/pickle.h) and the tensors rebuilt from both (formats/torch_checkpoint.h).
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"
#include "formats/torch_checkpoint.h"

NIB_FUZZ_TARGET(torch_checkpoint) {
  nib::fuzz::InputFile file("model.pth", data, size);
  nib::load_torch_checkpoint(file.path());
}
