#include "kernels/runtime_flags.h"

#include <omp.h>

#include <string>

#include "kernels/registry.h"
#include "util/error.h"

namespace nib::kernels {

void apply_runtime_flags(Args& args) {
  const std::string spec = args.get("kernels", "");
  if (!spec.empty()) configure(spec);
  if (args.flag("trace")) set_trace(true);
  const int64_t threads = args.get_int("threads", 0);
  NIB_CHECK(threads >= 0, "--threads must be positive");
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
}

}  // namespace nib::kernels
