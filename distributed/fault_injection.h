// Faults on demand, for the tests of what happens when a rank dies or hangs
// (tests/apps/distributed.sh). Set in the environment of a run:
//
//   NIB_TEST_FAULT=exit:RANK:STEP   rank RANK exits (status 3, without a word
//                                   or MPI_Finalize) before the gradient
//                                   all-reduce of step STEP (0-based, counted
//                                   from the start of this process)
//   NIB_TEST_FAULT=hang:RANK:STEP   rank RANK sleeps forever there instead
//
// Unset (always, outside tests), it costs one branch per step.
#pragma once

#include <cstdint>

namespace nib::distributed {

// Called by every rank before each gradient all-reduce.
void inject_fault_if_asked(int rank, int64_t step);

}  // namespace nib::distributed
