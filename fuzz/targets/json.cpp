// JSON (util/json.h): the parser, and what nib promises about the writer — a
// parsed document dumps to text that parses back to the same value, compact
// or indented.
#include <cstdlib>
#include <string_view>

#include "fuzz/fuzz_target.h"
#include "util/json.h"

NIB_FUZZ_TARGET(json) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nib::json::Value value = nib::json::parse(text, "fuzz.json");
  for (int indent : {-1, 2})
    if (nib::json::parse(nib::json::dump(value, indent), "dumped") != value) std::abort();
}
