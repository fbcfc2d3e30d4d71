#include "distributed/wait.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "util/error.h"

namespace nib::distributed {

void wait_for_ranks(const std::function<bool()>& done, double timeout_seconds, const std::string& what) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto spin_until = start + std::chrono::milliseconds(20);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  auto pause = std::chrono::microseconds(50);
  while (!done()) {
    const auto now = Clock::now();
    if (now > deadline)
      fail("waited ", timeout_seconds, " s for the other ranks in ", what,
           ": one of them has stopped or hangs (the limit is --dist-timeout)");
    if (now < spin_until) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
  }
}

}  // namespace nib::distributed
