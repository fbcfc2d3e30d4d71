#include "tensor/convert.h"

#include <bit>
#include <cmath>

namespace nib {

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // infinity or NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);  // normal: rebias the exponent
  } else {
    // Zero or subnormal: the value is mantissa · 2^-24, exact in a float.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(bits);
}

uint16_t float_to_half(float f) {
  uint32_t bits = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  float magnitude = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7E00;
  if (magnitude >= 65520.0f) return sign | 0x7C00;  // rounds past the largest half (65504): infinity
  if (magnitude < 6.103515625e-05f) {
    // Subnormal half: a multiple of 2^-24. nearbyint rounds half to even.
    return sign | static_cast<uint16_t>(std::nearbyint(magnitude * 16777216.0f));
  }
  // Normal: keep 10 of float's 23 mantissa bits, rounding to nearest even on
  // the 13 dropped bits. A carry out of the mantissa correctly bumps the exponent.
  uint32_t abs_bits = bits & 0x7FFFFFFFu;
  uint32_t rebiased = abs_bits - ((127u - 15u) << 23);
  uint32_t half = rebiased >> 13;
  uint32_t dropped = rebiased & 0x1FFF;
  if (dropped > 0x1000 || (dropped == 0x1000 && (half & 1))) ++half;
  return sign | static_cast<uint16_t>(half);
}

float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t float_to_bfloat16(float f) {
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40);  // stay a (quiet) NaN
  uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);  // round to nearest, ties to even
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

namespace {

// Element i of a buffer of type `t`, as a double (which holds every value of
// every supported type exactly, except int64 beyond 2^53).
double load(const void* data, DType t, int64_t i) {
  switch (t) {
    case DType::F32: return static_cast<const float*>(data)[i];
    case DType::F16: return half_to_float(static_cast<const uint16_t*>(data)[i]);
    case DType::BF16: return bfloat16_to_float(static_cast<const uint16_t*>(data)[i]);
    case DType::F64: return static_cast<const double*>(data)[i];
    case DType::I64: return static_cast<double>(static_cast<const int64_t*>(data)[i]);
    case DType::I32: return static_cast<const int32_t*>(data)[i];
    case DType::U8: return static_cast<const uint8_t*>(data)[i];
  }
  return 0.0;
}

void store(void* data, DType t, int64_t i, double v) {
  switch (t) {
    case DType::F32: static_cast<float*>(data)[i] = static_cast<float>(v); break;
    case DType::F16: static_cast<uint16_t*>(data)[i] = float_to_half(static_cast<float>(v)); break;
    case DType::BF16: static_cast<uint16_t*>(data)[i] = float_to_bfloat16(static_cast<float>(v)); break;
    case DType::F64: static_cast<double*>(data)[i] = v; break;
    case DType::I64: static_cast<int64_t*>(data)[i] = static_cast<int64_t>(v); break;
    case DType::I32: static_cast<int32_t*>(data)[i] = static_cast<int32_t>(v); break;
    case DType::U8: static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v); break;
  }
}

}  // namespace

Tensor to_dtype(const Tensor& t, DType to) {
  check_defined(t, "to_dtype", "input");
  if (t.dtype() == to) return t;
  Tensor host = t.cpu();
  Tensor out = Tensor::empty(t.shape(), kCPU, to);
  for (int64_t i = 0; i < t.numel(); ++i) store(out.raw_data(), to, i, load(host.raw_data(), t.dtype(), i));
  return out.to(t.device());
}

}  // namespace nib
