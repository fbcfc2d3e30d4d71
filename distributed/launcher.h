// Was this process started by an MPI launcher (mpirun, mpiexec, srun), and as
// which of how many? Read from the environment the launcher sets, before (and
// without) MPI itself, so that a nib built without MPI can refuse to run N
// copies that would each train the same model alone.
#pragma once

#include <string>

#include "device/device.h"

namespace nib::distributed {

struct Launch {
  int size = 1;          // processes the launcher started
  int rank = 0;          // this one's place among them
  std::string evidence;  // the variable that said so, "OMPI_COMM_WORLD_SIZE=2"; "" when not launched
  bool launched() const { return size > 1; }
};

// Open MPI (OMPI_COMM_WORLD_SIZE / _RANK), MPICH, Intel MPI and Slurm's PMI
// (PMI_SIZE / PMI_RANK), MVAPICH (MV2_COMM_WORLD_SIZE / _RANK). A malformed
// value is an error naming the variable.
Launch detect_launch();

// Why this build cannot train as `launch` asks on `device`, in a sentence
// that says what to install or change; "" when it can.
std::string missing_for(const Launch& launch, Device device, bool built_with_mpi, bool built_with_nccl);

}  // namespace nib::distributed
