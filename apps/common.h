// Options and helpers every nib subcommand shares.
#pragma once

#include <string>
#include <vector>

#include "device/device.h"
#include "distributed/communicator.h"
#include "util/args.h"

namespace nib::apps {

// Joins the ranks an MPI launcher started, if any (distributed/world.h), and
// prepares this process for its part: each rank gets cores / (ranks on the
// machine) OpenMP threads unless --threads or OMP_NUM_THREADS says otherwise,
// and only rank 0 keeps its standard output (errors still reach stderr from
// every rank). Prints what was joined. Alone, it does nothing.
distributed::Communicator& join_ranks(Device device, double timeout_seconds, bool threads_given);

// "MPI: Open MPI v4.1.4; NCCL: not built", for --help.
std::string distributed_build_line();

// Image files from command-line arguments: files as given, folders walked
// recursively for .jpg/.jpeg/.png/.bmp (any case), each folder's files sorted.
// An empty folder is an error naming it.
std::vector<std::string> image_files(const std::vector<std::string>& inputs);

// The command line as one string, for config.json.
std::string command_line(int argc, char** argv);

}  // namespace nib::apps
