// 2-D convolution, the definition: seven nested loops, one per index of
//
//   y[n,k,p,q] = bias[k] + sum_{c,r,s} x[n, g*Cg + c, p*sh - pad_top + r*dh, q*sw - pad_left + s*dw] * w[k,c,r,s]
//
// where g = k / Kg is the group of output channel k, c runs over the Cg input
// channels of that group, and positions outside the image read as zero.
//
// The two backward passes are the same loops with the multiply-add pointed
// the other way: every term x * w of the forward sum contributes gy * w to gx
// and gy * x to gw. Sums are kept in double so the reference is the more
// accurate side of every comparison.
#include <cstddef>
#include <vector>

#include "kernels/conv2d.h"

namespace nib::kernels::reference {

namespace {

// The input row or column that output position `out` reads through kernel tap
// `tap`; may fall outside [0, size) (in the padding).
int64_t input_index(int64_t out, int64_t tap, int64_t stride, int64_t pad_before, int64_t dilation) {
  return out * stride - pad_before + tap * dilation;
}

// Calls term(x_index, w_index, y_index) for every product of the forward sum
// that touches the image (padding terms are zero and skipped).
template <class Term>
void for_each_term(const Conv2dProblem& s, Term term) {
  const int64_t P = s.P, Q = s.Q, Cg = s.C_per_group, Kg = s.K_per_group;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q)
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t r = 0; r < s.R; ++r)
              for (int64_t t = 0; t < s.S; ++t) {
                int64_t h = input_index(p, r, s.stride_h, s.pad_top, s.dilation_h);
                int64_t w = input_index(q, t, s.stride_w, s.pad_left, s.dilation_w);
                if (h < 0 || h >= s.H || w < 0 || w >= s.W) continue;
                int64_t channel = (k / Kg) * Cg + c;
                term(((n * s.C + channel) * s.H + h) * s.W + w,  // x[n, channel, h, w]
                     ((k * Cg + c) * s.R + r) * s.S + t,         // w[k, c, r, t]
                     ((n * s.K + k) * P + p) * Q + q);           // y[n, k, p, q]
              }
}

void store(const std::vector<double>& sums, float* out) {
  for (size_t i = 0; i < sums.size(); ++i) out[i] = static_cast<float>(sums[i]);
}

}  // namespace

void conv2d_forward(const Conv2dProblem& s, const float* x, const float* w, const float* bias, float* y) {
  const int64_t PQ = s.P * s.Q;
  std::vector<double> sums(static_cast<size_t>(s.N * s.K * PQ), 0.0);
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { sums[yi] += static_cast<double>(x[xi]) * w[wi]; });
  if (bias)
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t k = 0; k < s.K; ++k)
        for (int64_t i = 0; i < PQ; ++i) sums[(n * s.K + k) * PQ + i] += bias[k];
  store(sums, y);
}

void conv2d_backward_data(const Conv2dProblem& s, const float* gy, const float* w, float* gx) {
  std::vector<double> sums(static_cast<size_t>(s.N * s.C * s.H * s.W), 0.0);
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { sums[xi] += static_cast<double>(gy[yi]) * w[wi]; });
  store(sums, gx);
}

void conv2d_backward_weight(const Conv2dProblem& s, const float* x, const float* gy, float* gw, float* gbias) {
  std::vector<double> sums(static_cast<size_t>(s.K * s.C_per_group * s.R * s.S), 0.0);
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { sums[wi] += static_cast<double>(gy[yi]) * x[xi]; });
  store(sums, gw);
  if (gbias) {  // the bias is added to every output position of its channel
    const int64_t PQ = s.P * s.Q;
    for (int64_t k = 0; k < s.K; ++k) {
      double total = 0.0;
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t i = 0; i < PQ; ++i) total += gy[(n * s.K + k) * PQ + i];
      gbias[k] = static_cast<float>(total);
    }
  }
}

}  // namespace nib::kernels::reference
