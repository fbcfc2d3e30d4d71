// Reading PyTorch checkpoints (.pth / .pt written by torch.save, PyTorch >= 1.6)
// without Python: a zip archive (formats/zip_archive.h) whose data.pkl is a
// pickled dict of tensors (formats/pickle.h), each tensor pointing into a raw
// little-endian storage stored as its own archive entry.
//
//   archive/data.pkl       {"features.0.weight": _rebuild_tensor_v2(storage, offset, size, stride, ...), ...}
//   archive/data/0, 1, ... the storages' bytes
//
// Accepted layouts: a state dict, or a dict holding one under "state_dict",
// "model" or "model_state_dict" (training checkpoints). Anything else — a
// pickled nn.Module, a custom class — is refused with an error naming what
// was found, since nib cannot (and should not) execute arbitrary pickles.
#pragma once

#include <string>

#include "tensor/named_tensors.h"

namespace nib {

NamedTensors load_torch_checkpoint(const std::string& path);

}  // namespace nib
