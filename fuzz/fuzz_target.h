// One fuzz target: a function that feeds one input to one of nib's readers.
//
//   NIB_FUZZ_TARGET(safetensors) {
//     nib::fuzz::InputFile file("safetensors", data, size);
//     nib::load_safetensors(file.path());
//   }
//
// The contract every reader must keep, and every target checks: any input is
// either accepted or refused with a nib::Error (one line naming the file and
// the problem). Anything else is a bug: a crash, a sanitizer report, a hang,
// a huge allocation, or another exception (std::bad_alloc, std::out_of_range,
// ...), which run_one lets escape so that libFuzzer reports it.
//
// The same source builds two ways:
//   - with NIB_LIBFUZZER (the fuzz build, fuzz/CMakeLists.txt): the target is
//     LLVMFuzzerTestOneInput, one executable per target;
//   - without it (the unit tests): the target registers itself by name, and
//     tests/test_fuzz_inputs.cpp replays every committed seed and every input
//     that once found a bug (fuzz/corpus/<name>, fuzz/regressions/<name>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "util/error.h"

namespace nib::fuzz {

using Body = void (*)(const uint8_t* data, size_t size);

// Runs one input; a nib::Error is the reader doing its job.
inline void run_one(Body body, const uint8_t* data, size_t size) {
  try {
    body(data, size);
  } catch (const nib::Error&) {
  }
}

// Every target compiled into this program, by name ("safetensors").
inline std::map<std::string, Body>& targets() {
  static std::map<std::string, Body> all;
  return all;
}
inline bool register_target(const char* name, Body body) {
  targets()[name] = body;
  return true;
}

}  // namespace nib::fuzz

#ifdef NIB_LIBFUZZER
#define NIB_FUZZ_ENTRY(name)                                                       \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {        \
    nib::fuzz::run_one(nib_fuzz_##name, data, size);                               \
    return 0;                                                                      \
  }
#else
#define NIB_FUZZ_ENTRY(name) \
  [[maybe_unused]] static const bool nib_fuzz_registered_##name = nib::fuzz::register_target(#name, nib_fuzz_##name);
#endif

#define NIB_FUZZ_TARGET(name)                                    \
  static void nib_fuzz_##name(const uint8_t* data, size_t size); \
  NIB_FUZZ_ENTRY(name)                                           \
  static void nib_fuzz_##name(const uint8_t* data, size_t size)
