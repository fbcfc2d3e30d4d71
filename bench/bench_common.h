// What every CPU benchmark of `nib bench` shares: a timer that reports the
// median of several runs after a warm-up, and the description of the machine
// and date that every results file carries (a number without its machine is
// not a result).
#pragma once

#include <functional>
#include <string>

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
// Today's date as YYYY-MM-DD (local time): results files are named by it.
std::string today();

}  // namespace nib::bench
