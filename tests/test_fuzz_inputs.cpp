// The fuzz targets (fuzz/targets/) run in the ordinary test build too: every
// committed input — the seeds in fuzz/corpus/<target>/ and each input that once
// found a bug, in fuzz/regressions/<target>/ — goes through its target, so a
// fixed bug stays fixed without clang or libFuzzer, and CI's sanitized run
// (NIB_SANITIZE=address,undefined) checks them under ASan and UBSan as well.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/fuzz_target.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFuzzDir = fs::path(NIB_SOURCE_DIR) / "fuzz";

// Runs every file in `dir` through `body`; returns how many there were.
int replay(nib::fuzz::Body body, const fs::path& dir) {
  if (!fs::is_directory(dir)) return 0;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CAPTURE(entry.path().string());
    // A crash ends the test program; any exception but nib::Error fails here.
    CHECK_NOTHROW(nib::fuzz::run_one(body, bytes.data(), bytes.size()));
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("fuzz inputs: every seed and every input that once found a bug is accepted or refused cleanly") {
  REQUIRE(nib::fuzz::targets().size() >= 9);
  for (const auto& [binding_name, body] : nib::fuzz::targets()) {
    const std::string& name = binding_name;  // clang 14 cannot capture a structured binding in CAPTURE
    CAPTURE(name);
    CHECK(replay(body, kFuzzDir / "corpus" / name) > 0);  // every target has seeds
    replay(body, kFuzzDir / "regressions" / name);
  }
}
