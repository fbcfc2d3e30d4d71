// Element type conversion: float16 and bfloat16 by hand, to_dtype on tensors.
#include <doctest/doctest.h>

#include <cmath>

#include "tensor/convert.h"

using namespace nib;

TEST_CASE("convert: float16 known values") {
  CHECK(half_to_float(0x3C00) == 1.0f);
  CHECK(half_to_float(0xC000) == -2.0f);
  CHECK(half_to_float(0x7BFF) == 65504.0f);                 // largest half
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));    // smallest subnormal
  CHECK(half_to_float(0x0400) == std::ldexp(1.0f, -14));    // smallest normal
  CHECK(std::isinf(half_to_float(0xFC00)));
  CHECK(std::isnan(half_to_float(0x7E00)));
  CHECK(std::signbit(half_to_float(0x8000)));
  CHECK(float_to_half(0.1f) == 0x2E66);
  CHECK(float_to_half(65504.0f) == 0x7BFF);
  CHECK(float_to_half(65519.0f) == 0x7BFF);  // below the half-way point to the next (absent) value
  CHECK(float_to_half(65520.0f) == 0x7C00);  // rounds to infinity
  CHECK(float_to_half(1e-9f) == 0x0000);
  CHECK(float_to_half(-std::ldexp(1.0f, -25)) == 0x8000);  // half of the smallest subnormal: a tie, to even (0)
  CHECK(float_to_half(std::ldexp(3.0f, -25)) == 0x0002);   // 1.5 subnormal steps: a tie, to even (2)
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // tie between 0x3C00 and 0x3C01: even
  CHECK(float_to_half(1.0f + std::ldexp(3.0f, -11)) == 0x3C02);  // tie between 0x3C01 and 0x3C02: even
  CHECK(float_to_half(std::nanf("")) == 0x7E00);
}

TEST_CASE("convert: every float16 and bfloat16 value survives a round trip through float") {
  // NaNs must stay NaN; every other value must come back bit for bit.
  int half_failures = 0, bfloat_failures = 0;
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    uint16_t h = static_cast<uint16_t>(bits);
    float f = half_to_float(h);
    bool half_ok = std::isnan(f) ? std::isnan(half_to_float(float_to_half(f))) : float_to_half(f) == h;
    float b = bfloat16_to_float(h);
    bool bfloat_ok = std::isnan(b) ? std::isnan(bfloat16_to_float(float_to_bfloat16(b))) : float_to_bfloat16(b) == h;
    if (!half_ok && half_failures++ < 5) FAIL_CHECK("float16 0x" << std::hex << bits << " -> " << f);
    if (!bfloat_ok && bfloat_failures++ < 5) FAIL_CHECK("bfloat16 0x" << std::hex << bits << " -> " << b);
  }
  CHECK(half_failures == 0);
  CHECK(bfloat_failures == 0);
}

TEST_CASE("convert: bfloat16 keeps float's top bits and rounds to nearest even") {
  CHECK(float_to_bfloat16(1.0f) == 0x3F80);
  CHECK(bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);  // tie: to even
  CHECK(float_to_bfloat16(1.0f + std::ldexp(3.0f, -8)) == 0x3F82);  // tie: to even
  CHECK(float_to_bfloat16(1.0f + std::ldexp(1.0f, -7)) == 0x3F81);  // exact
  CHECK(float_to_bfloat16(3.0e38f) == 0x7F62);
}

TEST_CASE("convert: to_dtype between tensor types") {
  Tensor f = Tensor::from_vector({1.5f, -2.0f, 0.1f, 1000.0f}, {2, 2});
  for (DType t : {DType::F16, DType::BF16, DType::F64}) {
    Tensor back = to_f32(to_dtype(f, t));
    CHECK(back.dtype() == DType::F32);
    CHECK(back.shape() == f.shape());
    std::vector<float> v = back.to_vector();
    CHECK(v[0] == 1.5f);
    CHECK(v[1] == -2.0f);
    CHECK(v[2] == doctest::Approx(0.1).epsilon(t == DType::BF16 ? 1e-2 : 1e-3));
    CHECK(v[3] == 1000.0f);
  }
  Tensor i = to_dtype(f, DType::I64);
  CHECK(i.data_as<int64_t>()[0] == 1);
  CHECK(i.data_as<int64_t>()[1] == -2);
  CHECK(to_f32(to_dtype(i, DType::I32)).to_vector() == std::vector<float>{1, -2, 0, 1000});
  CHECK(to_f32(f).raw_data() == f.raw_data());  // already float32: the same tensor
}
