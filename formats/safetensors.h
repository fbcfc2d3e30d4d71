// safetensors: the weight file format of Hugging Face (and nib's checkpoints),
// read and written by hand. A file is
//
//   8 bytes     N, the header length, unsigned little-endian
//   N bytes     a JSON object, padded with spaces:
//                 {"__metadata__": {"key": "value", ...},          (optional)
//                  "features.0.weight": {"dtype": "F32", "shape": [32, 1, 5, 5],
//                                        "data_offsets": [0, 3200]}, ...}
//   the rest    the tensors' bytes, little-endian, row-major; data_offsets
//               [begin, end) count from the start of this part
//
// Loading checks everything a damaged or hostile file could get wrong and
// names the file and the problem: too short, a header length beyond the end,
// bad JSON, repeated names, unknown dtypes, offsets that are out of range,
// overlap, leave gaps, or do not match shape × dtype size. (Like the
// reference implementation, the tensors must tile the data part exactly.)
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/named_tensors.h"
#include "tensor/tensor.h"

namespace nib {

struct SafeTensorsFile {
  NamedTensors tensors;                          // CPU tensors, in the order of their data in the file
  std::map<std::string, std::string> metadata;   // the "__metadata__" entry, if any
};

// Reads F32, F16, BF16, F64, I64, I32 and U8 tensors, keeping their dtype
// (tensor/convert.h's to_f32 converts). Throws nib::Error on any problem.
SafeTensorsFile load_safetensors(const std::string& path);

// Writes tensors (from any device) in the given order, atomically (see
// util/files.h). The header is compact JSON padded with spaces to a multiple
// of 8 bytes, so the data starts 8-byte aligned, as the reference writer does.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace nib
