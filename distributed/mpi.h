// MPI: the ranks an MPI launcher started (mpirun -np N, or N processes
// across the machines of a host file) as a Communicator. Host memory and CPU
// tensors are added up by MPI itself; CUDA tensors by NCCL, which is started
// through MPI at the first CUDA all-reduce (distributed/nccl.h).
//
// Every collective is MPI's non-blocking form polled until it completes or
// the timeout passes (distributed/wait.h).
//
// Built when CMake finds MPI (NIB_HAVE_MPI); otherwise built_with_mpi() is
// false and join_mpi throws.
#pragma once

#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace nib::distributed {

bool built_with_mpi();
// "Open MPI v4.1.4", or "" without MPI.
std::string mpi_version();

// Initialises MPI and returns MPI_COMM_WORLD as a Communicator. Once per process.
std::unique_ptr<Communicator> join_mpi(double timeout_seconds);
// MPI_Finalize, once the communicator is no longer used.
void leave_mpi();
// MPI_Abort: ends every rank of the job at once. Does nothing when MPI was
// never initialised.
void abort_mpi(int exit_code);

}  // namespace nib::distributed
