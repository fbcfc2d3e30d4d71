// Sums over the middle axis of [outer, reduce, inner], accumulated in double
// so that large means (batch statistics, losses) stay accurate.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "kernels/reduce.h"

namespace nib::kernels::reference {

void sum(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* x, float* y) {
  std::vector<double> acc(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t r = 0; r < reduce; ++r) {
      const float* row = x + (o * reduce + r) * inner;
      for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
    }
    for (int64_t i = 0; i < inner; ++i) y[o * inner + i] = static_cast<float>(scale * acc[i]);
  }
}

void expand(int64_t outer, int64_t reduce, int64_t inner, float scale, const float* gy, float* gx) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < reduce; ++r)
      for (int64_t i = 0; i < inner; ++i) gx[(o * reduce + r) * inner + i] = scale * gy[o * inner + i];
}

}  // namespace nib::kernels::reference
