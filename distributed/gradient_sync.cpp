#include "distributed/gradient_sync.h"

#include <cstdio>

#include "distributed/fault_injection.h"
#include "tensor/storage.h"
#include "util/error.h"

namespace nib::distributed {

GradientSync::GradientSync(const std::vector<optim::ParamGroup>& groups, Communicator& comm, size_t bucket_bytes)
    : comm_(comm) {
  const int64_t bucket_numel = static_cast<int64_t>(bucket_bytes / sizeof(float));
  for (const optim::ParamGroup& group : groups)
    for (const Tensor& p : group.params) {
      if (!p.requires_grad()) continue;
      if (buckets_.empty() || buckets_.back().device != p.device() ||
          (buckets_.back().numel > 0 && buckets_.back().numel + p.numel() > bucket_numel))
        buckets_.push_back({p.device(), {}, 0});
      buckets_.back().params.push_back(p);
      buckets_.back().numel += p.numel();
    }
}

std::string GradientSync::describe() const {
  int64_t numel = 0;
  for (const Bucket& b : buckets_) numel += b.numel;
  char size[32];
  std::snprintf(size, sizeof size, "%.1f MB", static_cast<double>(numel) * sizeof(float) / 1e6);
  return str(buckets_.size(), buckets_.size() == 1 ? " bucket, " : " buckets, ", size);
}

std::vector<bool> GradientSync::present_anywhere(bool some_rank_idle) {
  std::vector<double> present;
  for (const Bucket& bucket : buckets_)
    for (const Tensor& p : bucket.params) present.push_back(p.grad().defined() ? 1.0 : 0.0);
  if (some_rank_idle) comm_.sum(present.data(), present.size());
  std::vector<bool> out;
  for (double count : present) out.push_back(count > 0);
  return out;
}

void GradientSync::average(int64_t rows, int64_t global_rows) {
  if (comm_.size() == 1) return;
  inject_fault_if_asked(comm_.rank(), steps_++);
  NIB_CHECK(global_rows > 0 && rows >= 0 && rows <= global_rows, "GradientSync: ", rows, " rows of a batch of ",
            global_rows);
  const std::vector<bool> present = present_anywhere(global_rows < comm_.size());
  const float weight = static_cast<float>(static_cast<double>(rows) / static_cast<double>(global_rows));

  size_t index = 0;  // into `present`, across buckets
  for (const Bucket& bucket : buckets_) {
    bool complete = true;
    for (size_t i = 0; i < bucket.params.size(); ++i) complete = complete && bucket.params[i].grad().defined();
    // A gradient missing here but present elsewhere counts as zeros.
    Tensor flat = complete ? Tensor::empty({bucket.numel}, bucket.device) : Tensor::zeros({bucket.numel}, bucket.device);
    int64_t offset = 0;
    for (const Tensor& p : bucket.params) {
      if (Tensor grad = p.grad(); grad.defined())
        copy_bytes(flat.data() + offset, bucket.device, grad.data(), grad.device(), grad.bytes());
      offset += p.numel();
    }
    comm_.weighted_sum(flat, weight);
    offset = 0;
    for (const Tensor& p : bucket.params) {
      // The gradient becomes a view of its slice: nothing is copied back.
      p.set_grad(present[index++] ? flat.slice_rows(offset, offset + p.numel()).reshape(p.shape()) : Tensor());
      offset += p.numel();
    }
  }
}

}  // namespace nib::distributed
