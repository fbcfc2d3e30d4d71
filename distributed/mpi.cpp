#include "distributed/mpi.h"

#include <climits>
#include <cstdint>

#include "util/error.h"

#ifdef NIB_HAVE_MPI

// The C API only: Open MPI's and MPICH's deprecated C++ bindings are not needed (and warn).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include "distributed/nccl.h"
#include "distributed/wait.h"

namespace nib::distributed {

namespace {

bool g_initialised = false;

// MPI counts are ints; nib's buffers (a gradient bucket, a checkpoint's bytes) stay far below.
int mpi_count(size_t n, const char* what) {
  NIB_CHECK(n <= static_cast<size_t>(INT_MAX), what, ": ", n, " elements are more than one MPI call can carry");
  return static_cast<int>(n);
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(double timeout_seconds) : timeout_(timeout_seconds) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // The ranks that share this machine's memory: which GPU each one takes.
    MPI_Comm machine;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &machine);
    MPI_Comm_rank(machine, &local_rank_);
    MPI_Comm_size(machine, &local_size_);
    MPI_Comm_free(&machine);
    double first_on_machine = local_rank_ == 0 ? 1.0 : 0.0;
    sum(&first_on_machine, 1);
    machines_ = static_cast<int>(first_on_machine);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string describe() const override {
    return str("MPI (", mpi_version(), "): ", size_, " ranks on ", machines_, machines_ == 1 ? " machine" : " machines");
  }

  void broadcast(void* data, size_t bytes) override {
    MPI_Request request;
    MPI_Ibcast(data, mpi_count(bytes, "broadcast"), MPI_BYTE, 0, MPI_COMM_WORLD, &request);
    wait(request, "a broadcast from rank 0 (MPI_Ibcast)");
  }

  void sum(double* values, size_t n) override {
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, values, mpi_count(n, "sum"), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &request);
    wait(request, "a sum over ranks (MPI_Iallreduce)");
  }

  std::vector<std::string> all_gather(const std::string& mine) override {
    std::vector<uint64_t> lengths(static_cast<size_t>(size_));
    uint64_t my_length = mine.size();
    MPI_Request request;
    MPI_Iallgather(&my_length, 1, MPI_UINT64_T, lengths.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD, &request);
    wait(request, "a gather of sizes (MPI_Iallgather)");
    std::vector<int> counts, offsets;
    size_t total = 0;
    for (uint64_t length : lengths) {
      offsets.push_back(mpi_count(total, "all_gather"));
      counts.push_back(mpi_count(length, "all_gather"));
      total += length;
    }
    mpi_count(total, "all_gather");
    std::string all(total, '\0');
    MPI_Iallgatherv(mine.data(), counts[static_cast<size_t>(rank_)], MPI_BYTE, all.data(), counts.data(),
                    offsets.data(), MPI_BYTE, MPI_COMM_WORLD, &request);
    wait(request, "a gather (MPI_Iallgatherv)");
    std::vector<std::string> out;
    for (size_t r = 0; r < lengths.size(); ++r) out.push_back(all.substr(static_cast<size_t>(offsets[r]), lengths[r]));
    return out;
  }

  void barrier() override {
    MPI_Request request;
    MPI_Ibarrier(MPI_COMM_WORLD, &request);
    wait(request, "a barrier (MPI_Ibarrier)");
  }

  void weighted_sum(const Tensor& flat, float weight) override {
    NIB_CHECK(flat.dtype() == DType::F32, "weighted_sum: expected float32, got ", dtype_name(flat.dtype()));
    if (flat.device().is_cuda()) {
      if (!gpu_) gpu_ = start_nccl(*this, timeout_);
      gpu_->weighted_sum(flat, weight);
      return;
    }
    float* values = flat.data();
    const int64_t n = flat.numel();
    for (int64_t i = 0; i < n; ++i) values[i] *= weight;
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, values, mpi_count(static_cast<size_t>(n), "weighted_sum"), MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD, &request);
    wait(request, "the gradient all-reduce (MPI_Iallreduce)");
  }

 private:
  void wait(MPI_Request& request, const char* what) {
    wait_for_ranks(
        [&] {
          int done = 0;
          MPI_Test(&request, &done, MPI_STATUS_IGNORE);
          return done != 0;
        },
        timeout_, what);
  }

  double timeout_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, machines_ = 1;
  std::unique_ptr<GpuReducer> gpu_;  // NCCL, started at the first CUDA all-reduce
};

}  // namespace

bool built_with_mpi() { return true; }

std::string mpi_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<size_t>(length));
  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"; "MPICH Version: 4.0 ..." stays a line.
  version = version.substr(0, version.find_first_of(",\n"));
  while (!version.empty() && (version.back() == ' ' || version.back() == '\t')) version.pop_back();
  return version;
}

std::unique_ptr<Communicator> join_mpi(double timeout_seconds) {
  NIB_CHECK(!g_initialised, "join_mpi: MPI is already initialised");
  // Only the main thread calls MPI (the data loader's thread never does).
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  g_initialised = true;
  return std::make_unique<MpiCommunicator>(timeout_seconds);
}

void leave_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_initialised && !finalized) MPI_Finalize();
}

void abort_mpi(int exit_code) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_initialised && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
}

}  // namespace nib::distributed

#else  // without MPI

namespace nib::distributed {

bool built_with_mpi() { return false; }
std::string mpi_version() { return ""; }
std::unique_ptr<Communicator> join_mpi(double) {
  fail("this nib was built without MPI (Debian: libopenmpi-dev openmpi-bin, then rebuild)");
}
void leave_mpi() {}
void abort_mpi(int) {}

}  // namespace nib::distributed

#endif
