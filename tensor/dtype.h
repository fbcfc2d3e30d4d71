// Element types. nib computes in float32; the other types exist so that
// checkpoints holding fp16/bf16/fp64 weights or int64 counters (BatchNorm's
// num_batches_tracked) can be stored and converted, and so reduced-precision
// kernels can be added later without changing the Tensor class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nib {

enum class DType : uint8_t { F32, F16, BF16, F64, I64, I32, U8 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::F64: return 8;
    case DType::I64: return 8;
    case DType::I32: return 4;
    case DType::U8: return 1;
  }
  return 0;
}

// Names as the safetensors format spells them.
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::U8: return "U8";
  }
  return "?";
}

// Returns false when the name is not a type nib knows.
bool dtype_from_name(const std::string& name, DType& out);

}  // namespace nib
