// The command-line flags that choose how kernels run, shared by every nib
// command and benchmark: --kernels SPEC (which implementation each op family
// uses, kernels/registry.h), --trace (print each family's choice and the
// shapes it ran on, once per shape; as NIB_TRACE=1) and --threads N (OpenMP
// threads; 0 or absent: OpenMP's own choice).
#pragma once

#include "util/args.h"

namespace nib::kernels {

void apply_runtime_flags(Args& args);

}  // namespace nib::kernels
