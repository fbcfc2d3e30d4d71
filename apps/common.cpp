#include "apps/common.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "datasets/image_folder.h"
#include "distributed/mpi.h"
#include "distributed/nccl.h"
#include "distributed/world.h"

#include "util/error.h"

namespace nib::apps {

distributed::Communicator& join_ranks(Device device, double timeout_seconds, bool threads_given) {
  distributed::Communicator& comm = distributed::join_world(device, timeout_seconds);
  if (comm.size() == 1) return comm;
  // Ranks on one machine share its cores; OpenMP would otherwise start a
  // thread per core in each, and they would fight for the cores.
  if (!threads_given && !std::getenv("OMP_NUM_THREADS"))
    omp_set_num_threads(std::max(1, omp_get_num_procs() / comm.local_size()));
  if (!comm.is_root()) NIB_CHECK(std::freopen("/dev/null", "w", stdout), "cannot silence standard output");
  std::printf("ranks   %s, %d OpenMP thread%s each%s\n", comm.describe().c_str(), omp_get_max_threads(),
              omp_get_max_threads() == 1 ? "" : "s", device.is_cuda() ? ", one GPU each (NCCL)" : "");
  return comm;
}

std::string distributed_build_line() {
  std::string mpi = distributed::built_with_mpi() ? distributed::mpi_version() : "not built (Debian: libopenmpi-dev)";
  std::string nccl = distributed::built_with_nccl() ? distributed::nccl_version() : "not built (CUDA with NCCL)";
  return "MPI: " + mpi + "; NCCL: " + nccl;
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
