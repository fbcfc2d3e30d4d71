// This process's place in a run: alone, or one rank among those an MPI
// launcher started. The apps join at start, leave at the end, and abort
// every rank after an error:
//
//   Communicator& comm = distributed::join_world(device, timeout);  // nib train / finetune
//   ... train with comm ...
//   distributed::leave_world();          // apps/main.cpp, after the command returned
//   distributed::abort_world(1);         // apps/main.cpp, after printing an error
//
// A process that no launcher started is alone and never touches MPI. One
// that a launcher started as one of N, in a nib built without MPI (or on
// CUDA without NCCL), is refused with a message saying what is missing
// (distributed/launcher.h).
#pragma once

#include <string>

#include "device/device.h"
#include "distributed/communicator.h"

namespace nib::distributed {

// Joins once; later calls return the same communicator. On CUDA, each rank
// takes the GPU of its local rank before any CUDA work.
Communicator& join_world(Device device, double timeout_seconds);

// The communicator joined, or single_process() before joining.
Communicator& world();

// Waits (within the timeout) until every rank is done, so that none leaves
// while another still writes, then leaves MPI. No-op when alone.
void leave_world();

// Ends every rank of the job at once (MPI_Abort) after this one met an error,
// so that none waits for it. Returns only when alone.
void abort_world(int exit_code);

// "rank 1/2: " for messages of a distributed run, "" when alone.
std::string rank_prefix();

}  // namespace nib::distributed
