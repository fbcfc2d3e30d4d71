// Options and helpers every nib subcommand shares.
#pragma once

#include <string>

#include "util/args.h"

namespace nib::apps {

// Reads --kernels (implementation choice, see kernels/registry.h) and
// --threads (OpenMP threads) and applies them.
void configure_runtime(Args& args);

// The command line as one string, for config.json.
std::string command_line(int argc, char** argv);

}  // namespace nib::apps
