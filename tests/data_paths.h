// Where tests find the shared data: $NIB_DATA, else ../shared/data next to the
// source tree (the layout of the project's checkout). Tests that need data
// skip with a message when it is absent.
#pragma once

#include <cstdlib>
#include <string>

namespace nib::testing {

inline std::string data_dir() {
  if (const char* env = std::getenv("NIB_DATA"); env && *env) return env;
  return std::string(NIB_SOURCE_DIR) + "/../shared/data";
}

}  // namespace nib::testing
