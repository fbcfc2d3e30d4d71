// Element type conversion on the CPU: checkpoints may hold float16, bfloat16
// or float64 weights (and int64 counters), while nib computes in float32.
//
// float16 (IEEE binary16): 1 sign, 5 exponent, 10 mantissa bits.
// bfloat16: the top 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa),
// so it keeps float32's range with less precision.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace nib {

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // rounds to nearest even; overflow gives ±infinity
float bfloat16_to_float(uint16_t b);
uint16_t float_to_bfloat16(float f);  // rounds to nearest even

// A copy of `t` with elements of type `to` (on the same device; the
// conversion itself runs on the host). Floats become integers by truncation
// toward zero, as a C cast (so they must be in range); int64 values beyond
// 2^53 pass through a double and lose their low bits. Returns `t` itself when
// it already has that type.
Tensor to_dtype(const Tensor& t, DType to);
// The common case: any type to float32.
inline Tensor to_f32(const Tensor& t) { return to_dtype(t, DType::F32); }

}  // namespace nib
