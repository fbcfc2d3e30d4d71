#include "distributed/launcher.h"

#include <algorithm>
#include <cstdlib>

#include "util/error.h"

namespace nib::distributed {

namespace {

// The value of `name` as a non-negative number, or -1 when it is not set.
int read_count(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return -1;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  NIB_CHECK(end && *end == '\0' && value >= 0 && value < (1 << 24), "the MPI launcher's variable ", name, "='",
            text, "' is not a process count");
  return static_cast<int>(value);
}

}  // namespace

Launch detect_launch() {
  struct Variables {
    const char* size;
    const char* rank;
  };
  const Variables known[] = {{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
                             {"PMI_SIZE", "PMI_RANK"},
                             {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"}};
  for (const Variables& v : known) {
    int size = read_count(v.size);
    if (size < 0) continue;
    Launch launch;
    launch.size = size > 0 ? size : 1;
    launch.rank = std::max(read_count(v.rank), 0);
    launch.evidence = str(v.size, "=", size);
    return launch;
  }
  return {};
}

std::string missing_for(const Launch& launch, Device device, bool built_with_mpi, bool built_with_nccl) {
  if (!launch.launched()) return "";
  if (!built_with_mpi)
    return str("started by an MPI launcher as one of ", launch.size, " processes (", launch.evidence,
               "), but this nib was built without MPI, so each process would train the same model alone; "
               "install Open MPI (Debian: libopenmpi-dev openmpi-bin) and rebuild, or run nib without mpirun");
  if (device.is_cuda() && !built_with_nccl)
    return str("--device cuda on ", launch.size,
               " processes needs NCCL to add up gradients on the GPUs, and this nib was built without it "
               "(nccl.h and libnccl: the CUDA toolkit, or pip's nvidia-nccl-cu13 with -DNCCL_ROOT=...); "
               "rebuild with NCCL, or train with --device cpu");
  return "";
}

}  // namespace nib::distributed
