// Averaging gradients across ranks after each backward pass, as PyTorch's
// DistributedDataParallel does, so that every rank takes the same optimizer
// step from the same parameters.
//
// The trainable parameters (the optimizer's, in its order) are cut into
// buckets of about 25 MB (DDP's bucket_cap_mb). Each step copies a bucket's
// gradients into one flat buffer, adds up the buffers of all ranks in one
// collective (MPI for CPU tensors, NCCL for CUDA ones), and points each
// gradient at its slice of the result: one all-reduce per bucket, not one per
// tensor.
//
// The average is weighted by rows: rank r's gradient is that of the mean loss
// over its n_r rows, so it counts n_r / B, and the sum is the gradient of the
// mean loss over the global batch of B rows, even when B does not divide by
// the number of ranks. That is the step one process with batch B takes, up to
// the order of float additions (and BatchNorm, whose batch statistics are
// each rank's own: docs/distributed.md).
//
// Not done (yet): overlapping the all-reduces with the backward pass, as DDP
// does with autograd hooks; here they start once backward is finished.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "optim/optimizer.h"

namespace nib::distributed {

constexpr size_t kDefaultBucketBytes = 25u << 20;

class GradientSync {
 public:
  // Every rank builds it from the same parameter groups (same shapes, same
  // order). Frozen parameters (requires_grad false) are left out.
  GradientSync(const std::vector<optim::ParamGroup>& groups, Communicator& comm,
               size_t bucket_bytes = kDefaultBucketBytes);

  // After this rank's backward over `rows` of a global batch of `global_rows`:
  // every gradient becomes the global batch's. A rank whose shard is empty
  // (fewer rows than ranks, distributed/shard.h) passes rows = 0 and has no
  // gradients; in such a step the ranks first agree which parameters got a
  // gradient anywhere. In every other step, a parameter has a gradient on
  // all ranks or on none (the model is the same everywhere). With one rank
  // this does nothing.
  void average(int64_t rows, int64_t global_rows);

  size_t bucket_count() const { return buckets_.size(); }
  // "2 buckets, 1.6 MB": for the log.
  std::string describe() const;

 private:
  struct Bucket {
    Device device;
    std::vector<Tensor> params;
    int64_t numel = 0;
  };
  // Which parameters of the buckets, in order, have a gradient on some rank.
  std::vector<bool> present_anywhere(bool some_rank_idle);

  Communicator& comm_;
  std::vector<Bucket> buckets_;
  int64_t steps_ = 0;
};

}  // namespace nib::distributed
