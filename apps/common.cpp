#include "apps/common.h"

#include <omp.h>

#include "kernels/registry.h"
#include "util/error.h"

namespace nib::apps {

void configure_runtime(Args& args) {
  std::string kernels_spec = args.get("kernels", "");
  if (!kernels_spec.empty()) kernels::configure(kernels_spec);
  int64_t threads = args.get_int("threads", 0);
  NIB_CHECK(threads >= 0, "--threads must be positive");
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
}

std::string command_line(int argc, char** argv) {
  std::string line = "nib";
  for (int i = 1; i < argc; ++i) line += std::string(" ") + argv[i];
  return line;
}

}  // namespace nib::apps
