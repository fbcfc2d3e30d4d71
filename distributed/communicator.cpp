#include "distributed/communicator.h"

#include <cstdint>
#include <cstring>

#include "ops/ops.h"
#include "tensor/storage.h"
#include "util/error.h"

namespace nib::distributed {

namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string describe() const override { return "one process"; }
  void broadcast(void*, size_t) override {}
  void sum(double*, size_t) override {}
  std::vector<std::string> all_gather(const std::string& mine) override { return {mine}; }
  void barrier() override {}
  void weighted_sum(const Tensor& flat, float weight) override {
    if (weight != 1.0f) ops::copy_(flat, ops::affine(flat, weight, 0.0f));
  }
};

// "fc.weight [10, 64] f32; fc.bias [10] f32; ..." : what must agree across ranks.
std::string layout_of(const NamedTensors& tensors) {
  std::string text;
  for (const auto& [name, t] : tensors) text += str(name, " ", t.shape(), " ", dtype_name(t.dtype()), "; ");
  return text;
}

// The first entry where two layouts differ, for the error message.
std::string first_difference(const std::string& mine, const std::string& root) {
  size_t at = 0;
  while (at < mine.size() && at < root.size() && mine[at] == root[at]) ++at;
  size_t start = mine.rfind("; ", at);
  start = start == std::string::npos ? 0 : start + 2;
  auto entry = [&](const std::string& s) {
    size_t end = s.find("; ", start);
    return start < s.size() ? s.substr(start, end == std::string::npos ? std::string::npos : end - start)
                            : std::string("(nothing)");
  };
  return str("rank 0 has ", entry(root), " where this rank has ", entry(mine));
}

}  // namespace

Communicator& single_process() {
  static SingleProcess alone;
  return alone;
}

bool broadcast_flag(Communicator& comm, bool value) {
  uint8_t byte = value ? 1 : 0;
  comm.broadcast(&byte, 1);
  return byte != 0;
}

std::string broadcast_text(Communicator& comm, const std::string& text) {
  uint64_t length = text.size();
  comm.broadcast(&length, sizeof length);
  std::string out = comm.is_root() ? text : std::string(length, '\0');
  if (length > 0) comm.broadcast(out.data(), out.size());
  return out;
}

void broadcast_tensors(Communicator& comm, const NamedTensors& tensors) {
  if (comm.size() == 1) return;
  const std::string mine = layout_of(tensors);
  const std::string root = broadcast_text(comm, mine);
  NIB_CHECK(mine == root, "the ranks do not hold the same model: ", first_difference(mine, root));

  // One host buffer, one broadcast, whatever devices the tensors are on.
  size_t total = 0;
  for (const auto& entry : tensors) total += entry.second.bytes();
  std::vector<char> buffer(total);
  size_t offset = 0;
  if (comm.is_root())
    for (const auto& [name, t] : tensors) {
      copy_bytes(buffer.data() + offset, kCPU, t.raw_data(), t.device(), t.bytes());
      offset += t.bytes();
    }
  comm.broadcast(buffer.data(), buffer.size());
  offset = 0;
  if (!comm.is_root())
    for (const auto& [name, t] : tensors) {
      copy_bytes(t.raw_data(), t.device(), buffer.data() + offset, kCPU, t.bytes());
      offset += t.bytes();
    }
}

}  // namespace nib::distributed
