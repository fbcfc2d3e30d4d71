#include "apps/common.h"

#include <omp.h>

#include <algorithm>
#include <filesystem>

#include "datasets/image_folder.h"

#include "kernels/registry.h"
#include "util/error.h"

namespace nib::apps {

void configure_runtime(Args& args) {
  std::string kernels_spec = args.get("kernels", "");
  if (!kernels_spec.empty()) kernels::configure(kernels_spec);
  if (args.flag("trace")) kernels::set_trace(true);  // as NIB_TRACE=1
  int64_t threads = args.get_int("threads", 0);
  NIB_CHECK(threads >= 0, "--threads must be positive");
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
}

std::vector<std::string> image_files(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    if (!std::filesystem::is_directory(input)) {
      files.push_back(input);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(input))
      if (entry.is_regular_file() && data::is_image_file(entry.path().string())) found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    NIB_CHECK(!found.empty(), input, ": no images (.jpg, .jpeg, .png, .bmp) in this folder");
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::string command_line(int argc, char** argv) {
  std::string line = "nib";
  for (int i = 1; i < argc; ++i) line += std::string(" ") + argv[i];
  return line;
}

}  // namespace nib::apps
