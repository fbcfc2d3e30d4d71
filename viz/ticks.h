// "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten, chosen so that
// a few (about `target`) ticks cover the data, with the axis extended to the
// ticks just outside it (as in Heckbert, "Nice numbers for graph labels",
// Graphics Gems 1990). Labels then read 0, 0.2, 0.4 rather than 0.137, 0.274.
#pragma once

#include <string>
#include <vector>

namespace nib::viz {

struct Ticks {
  double lo = 0, hi = 1;        // the axis range: the first and last tick
  double step = 0.2;
  std::vector<double> values;   // lo, lo + step, ..., hi
};

// Ticks for data in [lo, hi]. A single value (lo == hi) gets a small range
// around it; non-finite bounds are an error. `integer_steps` keeps the step
// at 1 or more (epochs, class indices).
Ticks nice_ticks(double lo, double hi, int target = 6, bool integer_steps = false);

// The smallest "nice" number (1, 2, 5 times a power of ten) >= x > 0.
double nice_ceil(double x);

// A tick label with just enough decimals for the step: 0.25 -> "0.25" when
// the step is 0.05, 3 -> "3" when the step is 1; very large or small values
// use exponent notation ("1e-05"). Never prints "-0".
std::string format_tick(double value, double step);

}  // namespace nib::viz
