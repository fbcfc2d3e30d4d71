// What the benchmarks of `nib bench` share: the CPU timer that reports the
// median of several runs after a warm-up, the description of the machine
// and date that every results file carries (a number without its machine is
// not a result), and the convolution layers they race.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/conv2d.h"

namespace nib::bench {

struct Timing {
  double median_s = 0;  // median seconds per call
  int repeats = 0;      // timed calls (after the warm-up)
};

// Calls `call` once to warm up (caches, thread pool, allocations), then
// times it until `budget_s` seconds have passed, at least `min_repeats` and
// at most `max_repeats` times, and returns the median. The median, not the
// mean: on a shared machine a few runs are slowed by other processes, and
// the median ignores them.
Timing time_median(const std::function<void()>& call, double budget_s = 0.5, int min_repeats = 3,
                   int max_repeats = 50);

// "AMD EPYC 9554 64-Core Processor, 2 logical CPUs" from /proc/cpuinfo
// (or "unknown CPU" where that file does not exist).
std::string cpu_description();
int logical_cpus();
// "12.65 12.52 11.14": /proc/loadavg's 1, 5 and 15 minute load averages. On a
// shared machine a load above the number of CPUs means every timing here is
// also a measure of how often this process got a core; results record it.
std::string load_average();
// A Markdown paragraph for results files measured on a loaded machine: when
// the highest 1-minute load average given ("1 5 15" strings, as
// load_average() returns) exceeds the logical CPUs, it says so in bold, with
// the loads, so that nobody reads such numbers as the code's speed on idle
// cores; "" when every load is at most the CPU count.
std::string loaded_machine_warning(const std::vector<std::string>& loads);
// Today's date as YYYY-MM-DD (local time): results files are named by it.
std::string today();

// A convolution layer as the well-known networks have them: square images
// (HW x HW) and kernels (RS x RS), one stride, the same padding on every side.
kernels::Conv2dProblem square_conv(int64_t N, int64_t C, int64_t HW, int64_t K, int64_t RS, int64_t stride,
                                   int64_t pad, int64_t groups = 1);

}  // namespace nib::bench
