// Where tests find the shared data (MNIST, the photos, the pretrained
// MobileNetV2, ...): where nib itself looks ($NIB_DATA, else a shared/data
// folder above the working directory), else ../shared/data beside the source
// tree. Tests that need it are declared
//   TEST_CASE("..." * doctest::skip(!nib::testing::has_shared_data("mnist")))
// so that without the data they are reported as skipped, not passed.
#pragma once

#include <filesystem>
#include <string>

#include "datasets/data_source.h"

namespace nib::testing {

// The shared data folder, or "".
inline std::string shared_data_dir() {
  std::string dir = data::data_dir();
  if (!dir.empty()) return dir;
  for (const char* up : {"/../shared/data", "/../../shared/data"}) {
    std::string candidate = std::string(NIB_SOURCE_DIR) + up;
    if (std::filesystem::is_directory(candidate)) return candidate;
  }
  return "";
}

// Whether the shared data folder holds `what` ("mnist", "own-digits",
// "pretrained/mobilenet_v2_tflite_dequant.safetensors").
inline bool has_shared_data(const std::string& what) {
  try {
    std::string dir = shared_data_dir();
    return !dir.empty() && std::filesystem::exists(dir + "/" + what);
  } catch (const std::exception&) {  // a NIB_DATA that is not a folder
    return false;
  }
}

}  // namespace nib::testing
