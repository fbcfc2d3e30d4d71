#include "viz/ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace nib::viz {

double nice_ceil(double x) {
  NIB_CHECK(x > 0 && std::isfinite(x), "nice_ceil: needs a positive finite number, got ", x);
  double power = std::pow(10.0, std::floor(std::log10(x)));
  for (double mantissa : {1.0, 2.0, 5.0, 10.0}) {
    if (mantissa * power >= x * (1 - 1e-9)) return mantissa * power;
  }
  return 10.0 * power;
}

Ticks nice_ticks(double lo, double hi, int target, bool integer_steps) {
  NIB_CHECK(std::isfinite(lo) && std::isfinite(hi), "nice_ticks: the range [", lo, ", ", hi, "] is not finite");
  NIB_CHECK(target >= 2, "nice_ticks: need a target of at least 2 ticks, got ", target);
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(hi))) {
    // One value: show a little range around it (10% of it, or +-1 near 0).
    double pad = std::fabs(lo) > 1e-9 ? 0.1 * std::fabs(lo) : 1.0;
    if (integer_steps) pad = std::max(pad, 1.0);
    lo -= pad, hi += pad;
  }
  double step = nice_ceil((hi - lo) / (target - 1));
  if (integer_steps) step = std::max(step, 1.0);
  Ticks ticks;
  ticks.step = step;
  // Small tolerances keep a bound that is already a tick from adding one more.
  ticks.lo = std::floor(lo / step + 1e-9) * step;
  ticks.hi = std::ceil(hi / step - 1e-9) * step;
  int count = static_cast<int>(std::lround((ticks.hi - ticks.lo) / step)) + 1;
  for (int i = 0; i < count; ++i) {
    double v = ticks.lo + i * step;
    if (std::fabs(v) < step * 1e-9) v = 0.0;  // 0.1 * 3 - 0.3 is not quite 0
    ticks.values.push_back(v);
  }
  return ticks;
}

std::string format_tick(double value, double step) {
  if (std::fabs(value) < std::fabs(step) * 1e-9) value = 0.0;
  char text[32];
  double magnitude = std::max(std::fabs(value), std::fabs(step));
  if (magnitude >= 1e6 || (step != 0 && std::fabs(step) < 1e-4)) {
    std::snprintf(text, sizeof text, "%.3g", value);
  } else {
    // Decimals: as many as the step has (0.25 -> 2, 0.5 -> 1, 20 -> 0).
    int decimals = 0;
    while (decimals < 6 && std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) >
                               1e-6 * std::pow(10.0, decimals)) {
      ++decimals;
    }
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
  }
  std::string result = text;
  if (result.find_first_not_of("-0.") == std::string::npos && result[0] == '-') result.erase(0, 1);
  return result;
}

}  // namespace nib::viz
