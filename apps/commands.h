// The subcommands of the `nib` binary, one file each in apps/.
#pragma once

#include "util/args.h"

namespace nib::apps {

// Each returns the process exit code; errors are thrown as nib::Error and
// turned into a one-line message by main().
int train(int argc, char** argv);
int models(int argc, char** argv);
int predict(int argc, char** argv);
int classify(int argc, char** argv);
int bench(int argc, char** argv);

}  // namespace nib::apps
