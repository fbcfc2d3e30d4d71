#include "distributed/fault_injection.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "util/error.h"

namespace nib::distributed {

namespace {

struct Fault {
  enum class Kind { None, Exit, Hang } kind = Kind::None;
  int rank = 0;
  int64_t step = 0;
};

Fault read_fault() {
  Fault fault;
  const char* text = std::getenv("NIB_TEST_FAULT");
  if (!text || !*text) return fault;
  char kind[8] = {};
  long long rank = 0, step = 0;
  NIB_CHECK(std::sscanf(text, "%7[a-z]:%lld:%lld", kind, &rank, &step) == 3 &&
                (std::string(kind) == "exit" || std::string(kind) == "hang"),
            "NIB_TEST_FAULT='", text, "': expected exit:RANK:STEP or hang:RANK:STEP");
  fault.kind = std::string(kind) == "exit" ? Fault::Kind::Exit : Fault::Kind::Hang;
  fault.rank = static_cast<int>(rank);
  fault.step = step;
  return fault;
}

}  // namespace

void inject_fault_if_asked(int rank, int64_t step) {
  static const Fault fault = read_fault();
  if (fault.kind == Fault::Kind::None || fault.rank != rank || fault.step != step) return;
  if (fault.kind == Fault::Kind::Exit) std::_Exit(3);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

}  // namespace nib::distributed
