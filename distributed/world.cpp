#include "distributed/world.h"

#include <memory>

#include "distributed/launcher.h"
#include "distributed/mpi.h"
#include "distributed/nccl.h"
#include "util/error.h"

namespace nib::distributed {

namespace {

std::unique_ptr<Communicator> g_world;  // null while alone

}  // namespace

Communicator& join_world(Device device, double timeout_seconds) {
  if (g_world) return *g_world;
  NIB_CHECK(timeout_seconds > 0, "--dist-timeout must be positive, got ", timeout_seconds);
  Launch launch = detect_launch();
  std::string missing = missing_for(launch, device, built_with_mpi(), built_with_nccl());
  NIB_CHECK(missing.empty(), missing);
  if (!launch.launched()) return single_process();
  g_world = join_mpi(timeout_seconds);
  if (device.is_cuda()) use_gpu_of_local_rank(g_world->local_rank(), g_world->local_size());
  return *g_world;
}

Communicator& world() { return g_world ? *g_world : single_process(); }

void leave_world() {
  if (!g_world) return;
  g_world->barrier();
  g_world.reset();
  leave_mpi();
}

void abort_world(int exit_code) {
  if (g_world) abort_mpi(exit_code);
}

std::string rank_prefix() {
  return g_world ? str("rank ", g_world->rank(), "/", g_world->size(), ": ") : std::string();
}

}  // namespace nib::distributed
