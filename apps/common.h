// Options and helpers every nib subcommand shares.
#pragma once

#include <string>
#include <vector>

#include "util/args.h"

namespace nib::apps {

// Reads --kernels (implementation choice, see kernels/registry.h), --trace
// (print each op family's implementation and shapes, once per shape) and
// --threads (OpenMP threads) and applies them.
void configure_runtime(Args& args);

// Image files from command-line arguments: files as given, folders walked
// recursively for .jpg/.jpeg/.png/.bmp (any case), each folder's files sorted.
// An empty folder is an error naming it.
std::vector<std::string> image_files(const std::vector<std::string>& inputs);

// The command line as one string, for config.json.
std::string command_line(int argc, char** argv);

}  // namespace nib::apps
