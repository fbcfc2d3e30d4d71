// Weight initialisation, in place, from a seeded generator.
//
// fan_in / fan_out of a weight [out, in, kh, kw] are in*kh*kw and out*kh*kw.
// PyTorch's default for Conv2d and Linear is kaiming_uniform with a = √5,
// which works out to U(-1/√fan_in, 1/√fan_in); nib's layers use the same.
#pragma once

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace nib::init {

int64_t fan_in(const Tensor& weight);
int64_t fan_out(const Tensor& weight);

void uniform_(const Tensor& t, float low, float high, Generator& gen = default_generator());
void normal_(const Tensor& t, float mean, float std, Generator& gen = default_generator());
void constant_(const Tensor& t, float value);
// He et al.: std = gain / √fan, gain = √2 for ReLU. mode_fan_out uses fan_out.
void kaiming_normal_(const Tensor& t, bool mode_fan_out = false, Generator& gen = default_generator());
void kaiming_uniform_(const Tensor& t, float a = 0.0f, Generator& gen = default_generator());
// Glorot & Bengio: U(±√(6 / (fan_in + fan_out))), the Keras default.
void xavier_uniform_(const Tensor& t, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, Generator& gen = default_generator());

}  // namespace nib::init
