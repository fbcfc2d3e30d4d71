// Waiting for the other ranks, with a limit. MPI and NCCL collectives block
// until every rank has joined, with no timeout of their own; nib starts them
// without blocking (MPI_Iallreduce, an NCCL call on the stream) and polls
// them here, so a rank that died or hangs turns into an error on the others.
#pragma once

#include <functional>
#include <string>

namespace nib::distributed {

// Calls `done` until it returns true. Spins (yielding the core) for the first
// few milliseconds, since ranks usually arrive together, then sleeps between
// polls, up to a millisecond, so a rank waiting for a slower one leaves the
// CPU to it. Throws nib::Error after `timeout_seconds`, naming `what`.
void wait_for_ranks(const std::function<bool()>& done, double timeout_seconds, const std::string& what);

// The limit runs use unless told otherwise (--dist-timeout): 10 minutes, as
// PyTorch's default for its CPU backend. Long enough for rank 0 to write a
// checkpoint and figures while the others wait; short enough that a hung job
// does not hold a cluster allocation for hours.
constexpr double kDefaultTimeoutSeconds = 600;

}  // namespace nib::distributed
