#include "bench/bench_common.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <vector>

namespace nib::bench {

Timing time_median(const std::function<void()>& call, double budget_s, int min_repeats, int max_repeats) {
  using Clock = std::chrono::steady_clock;
  call();  // warm-up, not timed
  std::vector<double> seconds;
  const auto start = Clock::now();
  while (static_cast<int>(seconds.size()) < max_repeats) {
    const auto t0 = Clock::now();
    call();
    const auto t1 = Clock::now();
    seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
    const double elapsed = std::chrono::duration<double>(t1 - start).count();
    if (static_cast<int>(seconds.size()) >= min_repeats && elapsed >= budget_s) break;
  }
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  const double median = n % 2 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
  return {median, static_cast<int>(n)};
}

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  int cpus = 0;
  while (std::getline(in, line)) {
    if (line.rfind("processor", 0) == 0) ++cpus;
    if (model.empty() && line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  if (model.empty()) return "unknown CPU";
  return model + ", " + std::to_string(cpus) + " logical CPU" + (cpus == 1 ? "" : "s");
}

int logical_cpus() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  int cpus = 0;
  while (std::getline(in, line))
    if (line.rfind("processor", 0) == 0) ++cpus;
  return cpus;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(in >> one >> five >> fifteen)) return "unknown";
  return one + " " + five + " " + fifteen;
}

std::string loaded_machine_warning(const std::vector<std::string>& loads) {
  double highest = 0;
  std::string listed;
  for (const std::string& l : loads) {
    double one = std::atof(l.c_str());  // the first field, the 1-minute average
    highest = std::max(highest, one);
    listed += (listed.empty() ? "" : "; ") + l;
  }
  const int cpus = logical_cpus();
  if (highest <= cpus) return "";
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%.2f", highest);
  return "**Measured on a loaded machine: 1-minute load average up to " + std::string(buf) + " on " +
         std::to_string(cpus) + " logical CPUs (" + listed +
         "). Other jobs shared the cores, so these are not idle-machine numbers; rerun on an idle machine "
         "before quoting absolute rates.**\n\n";
}

std::string today() {
  std::time_t now = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", std::localtime(&now));
  return buf;
}

kernels::Conv2dProblem square_conv(int64_t N, int64_t C, int64_t HW, int64_t K, int64_t RS, int64_t stride,
                                   int64_t pad, int64_t groups) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.padding = Padding2d::same(pad);
  o.groups = groups;
  return kernels::Conv2dProblem::make({N, C, HW, HW}, {K, C / groups, RS, RS}, o);
}

}  // namespace nib::bench
