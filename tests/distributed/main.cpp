// The data-parallel tests: one doctest binary that every rank runs, started
// by tests/tools/mpirun_local.sh 2 (ctest's distributed_2_ranks). Each rank
// runs the same test cases in the same order, so their collectives match.
// Rank 0 prints doctest's report; another rank's report is printed only when
// it failed. The run fails when any rank fails.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <sstream>
#include <vector>

#include "distributed/launcher.h"
#include "distributed/world.h"

int main(int argc, char** argv) {
  using namespace nib::distributed;
  if (!detect_launch().launched()) {
    std::printf("nib_distributed_tests: skipped: start it as several ranks: tests/tools/mpirun_local.sh 2 %s\n",
                argv[0]);
    return 77;
  }
  // Generous: ranks that share two loaded cores can drift apart by seconds.
  Communicator& comm = join_world(nib::kCPU, 120);
  doctest::Context context(argc, argv);
  std::ostringstream report;
  if (!comm.is_root()) context.setCout(&report);
  const bool mine_failed = context.run() != 0;
  if (mine_failed && !comm.is_root()) std::printf("rank %d:\n%s", comm.rank(), report.str().c_str());
  double failed = mine_failed ? 1.0 : 0.0;
  comm.sum(&failed, 1);
  if (comm.is_root()) std::printf("%s on %d ranks\n", failed > 0 ? "FAILED" : "passed", comm.size());
  leave_world();
  return failed > 0 ? 1 : 0;
}
