// The parts of data-parallel training that one process can check: how rows
// are cut between ranks, sharded loaders, the launcher's environment and the
// refusals of a build that lacks MPI or NCCL, and that a single process is
// left exactly as it was. The multi-rank tests are tests/distributed (ctest's
// distributed_2_ranks, under mpirun).
#include <cstdlib>
#include <optional>
#include <string>

#include "datasets/loader.h"
#include "datasets/split.h"
#include "distributed/communicator.h"
#include "distributed/gradient_sync.h"
#include "distributed/launcher.h"
#include "distributed/shard.h"
#include "optim/optim.h"
#include "tests/helpers.h"

using namespace nib;
using namespace nib::distributed;

namespace {

// Sets an environment variable for the scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// n examples of 1x4x4 whose pixels are random, labelled i % 3.
data::Dataset random_set(int64_t n) {
  Generator gen(11);
  data::Dataset set;
  set.images = Tensor::uniform({n, 1, 4, 4}, gen, 0.0f, 1.0f);
  set.labels = Tensor::empty({n}, kCPU, DType::I32);
  for (int64_t i = 0; i < n; ++i) set.labels.data_as<int32_t>()[i] = static_cast<int32_t>(i % 3);
  set.class_names = data::numbered_classes(3);
  return set;
}

}  // namespace

TEST_CASE("rows are cut into contiguous blocks that differ by at most one row") {
  for (int ranks = 1; ranks <= 5; ++ranks)
    for (int64_t rows = 0; rows <= 23; ++rows) {
      int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        RowRange part = shard_rows(rows, r, ranks);
        CHECK(part.begin == next);
        CHECK((part.size() == rows / ranks || part.size() == rows / ranks + 1));
        CHECK((part.size() > 0 || rows < ranks));
        next = part.end;
      }
      CHECK(next == rows);
    }
  CHECK(shard_rows(65, 0, 2).size() == 33);
  CHECK(shard_rows(65, 1, 2).size() == 32);
}

TEST_CASE("sharded loaders cut every global batch between ranks, augmented the same as unsharded") {
  data::Dataset set = random_set(29);
  data::LoaderOptions options;
  options.batch_size = 8;  // 8, 8, 8, 5
  options.seed = 4;
  options.augment = data::AugmentConfig::parse("rotate=10,shift=0.1");
  data::DataLoader whole(set, data::all_indices(set.size()), options);
  const int shards = 3;
  std::vector<data::Epoch> parts;
  for (int s = 0; s < shards; ++s) {
    data::LoaderOptions sharded = options;
    sharded.shard = s;
    sharded.shards = shards;
    parts.push_back(data::DataLoader(set, data::all_indices(set.size()), sharded).epoch(2));
    CHECK(data::DataLoader(set, data::all_indices(set.size()), sharded).batches_per_epoch() ==
          whole.batches_per_epoch());
  }
  auto epoch = whole.epoch(2);
  while (auto batch = epoch.next()) {
    std::vector<int64_t> indices;
    std::vector<float> pixels;
    for (auto& part : parts) {
      std::optional<data::Batch> piece = part.next();
      REQUIRE(piece);
      CHECK(piece->global_rows == batch->indices.size());
      indices.insert(indices.end(), piece->indices.begin(), piece->indices.end());
      std::vector<float> values = piece->images.to_vector();
      pixels.insert(pixels.end(), values.begin(), values.end());
    }
    CHECK(indices == batch->indices);
    CHECK(pixels == batch->images.to_vector());  // each image transformed by its place in the global batch
  }
  for (auto& part : parts) CHECK(!part.next());
  data::LoaderOptions bad = options;
  bad.shard = 3;
  bad.shards = 3;
  CHECK(testing::error_of([&] { data::DataLoader(set, data::all_indices(set.size()), bad); }).find("shard 3 of 3") !=
        std::string::npos);
}

TEST_CASE("an MPI launcher is recognised from its environment variables") {
  ScopedEnv ompi("OMPI_COMM_WORLD_SIZE", nullptr), ompi_rank("OMPI_COMM_WORLD_RANK", nullptr);
  ScopedEnv pmi("PMI_SIZE", nullptr), pmi_rank("PMI_RANK", nullptr);
  ScopedEnv mv2("MV2_COMM_WORLD_SIZE", nullptr), mv2_rank("MV2_COMM_WORLD_RANK", nullptr);
  CHECK(!detect_launch().launched());
  {
    ScopedEnv size("OMPI_COMM_WORLD_SIZE", "4"), rank("OMPI_COMM_WORLD_RANK", "3");
    Launch launch = detect_launch();
    CHECK(launch.size == 4);
    CHECK(launch.rank == 3);
    CHECK(launch.evidence == "OMPI_COMM_WORLD_SIZE=4");
  }
  {
    ScopedEnv size("PMI_SIZE", "2"), rank("PMI_RANK", "1");
    CHECK(detect_launch().size == 2);
  }
  {
    ScopedEnv size("PMI_SIZE", "1");  // mpirun -np 1: alone
    CHECK(!detect_launch().launched());
  }
  ScopedEnv broken("OMPI_COMM_WORLD_SIZE", "two");
  CHECK(testing::error_of([] { detect_launch(); }).find("OMPI_COMM_WORLD_SIZE='two'") != std::string::npos);
}

TEST_CASE("a build without MPI or NCCL refuses a distributed launch and says what is missing") {
  Launch alone;
  CHECK(missing_for(alone, kCPU, false, false).empty());
  CHECK(missing_for(alone, kCUDA, false, false).empty());
  Launch two;
  two.size = 2;
  two.evidence = "OMPI_COMM_WORLD_SIZE=2";
  std::string no_mpi = missing_for(two, kCPU, false, false);
  CHECK(no_mpi.find("built without MPI") != std::string::npos);
  CHECK(no_mpi.find("OMPI_COMM_WORLD_SIZE=2") != std::string::npos);
  CHECK(no_mpi.find("libopenmpi-dev") != std::string::npos);
  CHECK(missing_for(two, kCPU, true, false).empty());
  CHECK(missing_for(two, kCUDA, true, false).find("NCCL") != std::string::npos);
  CHECK(missing_for(two, kCUDA, true, true).empty());
}

TEST_CASE("alone, gradient averaging and broadcasts change nothing") {
  Generator gen(3);
  Tensor w = Tensor::randn({3, 4}, gen).set_requires_grad(true);
  Tensor b = Tensor::randn({4}, gen).set_requires_grad(true);
  Tensor frozen = Tensor::randn({2}, gen);
  w.set_grad(Tensor::full({3, 4}, 0.25f));
  std::vector<float> before = w.to_vector();
  GradientSync sync({optim::ParamGroup{{w, b, frozen}, 0.1f, 0.0f}}, single_process());
  CHECK(sync.bucket_count() == 1);  // frozen is left out; w and b share a bucket
  sync.average(3, 7);
  CHECK(w.grad().to_vector() == std::vector<float>(12, 0.25f));
  CHECK(!b.grad().defined());
  broadcast_tensors(single_process(), {{"w", w}});
  CHECK(w.to_vector() == before);
  CHECK(broadcast_text(single_process(), "x") == "x");
}

TEST_CASE("gradients are cut into buckets of at most the bucket size") {
  std::vector<Tensor> params;
  for (int i = 0; i < 5; ++i) params.push_back(Tensor::zeros({100}).set_requires_grad(true));
  // 250 floats per bucket: 100 + 100, 100 + 100, 100.
  GradientSync sync({optim::ParamGroup{params, 0.1f, 0.0f}}, single_process(), 250 * sizeof(float));
  CHECK(sync.bucket_count() == 3);
  CHECK(sync.describe() == "3 buckets, 0.0 MB");
}
