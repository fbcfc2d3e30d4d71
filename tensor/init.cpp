#include "tensor/init.h"

#include <cmath>

#include "ops/ops.h"

namespace nib::init {

namespace {
int64_t receptive_field(const Tensor& w) {
  int64_t r = 1;
  for (int64_t d = 2; d < w.dim(); ++d) r *= w.size(d);
  return r;
}
}  // namespace

int64_t fan_in(const Tensor& w) {
  NIB_CHECK(w.dim() >= 2, "fan_in needs a weight with at least 2 dimensions, got ", w.shape());
  return w.size(1) * receptive_field(w);
}

int64_t fan_out(const Tensor& w) {
  NIB_CHECK(w.dim() >= 2, "fan_out needs a weight with at least 2 dimensions, got ", w.shape());
  return w.size(0) * receptive_field(w);
}

void uniform_(const Tensor& t, float low, float high, Generator& gen) {
  ops::copy_(t, Tensor::uniform(t.shape(), gen, low, high, t.device()));
}

void normal_(const Tensor& t, float mean, float std, Generator& gen) {
  ops::copy_(t, Tensor::randn(t.shape(), gen, mean, std, t.device()));
}

void constant_(const Tensor& t, float value) { ops::fill_(t, value); }

void kaiming_normal_(const Tensor& t, bool mode_fan_out, Generator& gen) {
  float fan = static_cast<float>(mode_fan_out ? fan_out(t) : fan_in(t));
  normal_(t, 0.0f, std::sqrt(2.0f / fan), gen);
}

void kaiming_uniform_(const Tensor& t, float a, Generator& gen) {
  float gain = std::sqrt(2.0f / (1.0f + a * a));
  float bound = gain * std::sqrt(3.0f / static_cast<float>(fan_in(t)));
  uniform_(t, -bound, bound, gen);
}

void xavier_uniform_(const Tensor& t, Generator& gen) {
  float bound = std::sqrt(6.0f / static_cast<float>(fan_in(t) + fan_out(t)));
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, Generator& gen) {
  normal_(t, 0.0f, std::sqrt(2.0f / static_cast<float>(fan_in(t) + fan_out(t))), gen);
}

}  // namespace nib::init
