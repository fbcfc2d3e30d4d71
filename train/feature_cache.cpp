#include "train/feature_cache.h"

#include <algorithm>
#include <cstring>

#include "distributed/communicator.h"
#include "distributed/shard.h"
#include "tensor/autograd.h"
#include "util/progress.h"

namespace nib::train {

namespace {

// Features of rows [begin, end) of the set, [end - begin, ...]; undefined when the range is empty.
Tensor features_of_rows(models::Transfer& model, const data::Dataset& set, Device device, int64_t batch_size,
                        bool quiet, int64_t first, int64_t last) {
  Tensor features;
  const int64_t n = last - first;
  ProgressBar bar((n + batch_size - 1) / batch_size, "features");
  for (int64_t begin = first, step = 0; begin < last; begin += batch_size, ++step) {
    int64_t end = std::min(last, begin + batch_size);
    Tensor out = model.frozen_features(set.images.slice_rows(begin, end).to(device)).cpu();
    if (!features.defined()) {  // the shape of one example is known after the first batch
      std::vector<int64_t> dims = out.shape().dims();
      dims[0] = n;
      features = Tensor::empty(Shape(dims));
    }
    const int64_t row = out.numel() / out.size(0);
    std::memcpy(features.data() + (begin - first) * row, out.data(), sizeof(float) * out.numel());
    if (!quiet) bar.update(step + 1, end - first, {});
  }
  if (!quiet && n > 0) bar.finish({}, n);
  return features;
}

// Every rank's block of features, stacked in rank order: [dims][floats] per rank, "" for an empty block.
Tensor gather_rows(distributed::Communicator& comm, const Tensor& mine, int64_t total_rows) {
  std::string bytes;
  if (mine.defined()) {
    std::vector<int64_t> dims = mine.shape().dims();
    int64_t rank_count = static_cast<int64_t>(dims.size());
    bytes.append(reinterpret_cast<const char*>(&rank_count), sizeof rank_count);
    bytes.append(reinterpret_cast<const char*>(dims.data()), dims.size() * sizeof(int64_t));
    bytes.append(reinterpret_cast<const char*>(mine.data()), mine.bytes());
  }
  std::vector<std::string> parts = comm.all_gather(bytes);
  Tensor all;
  int64_t row = 0;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    int64_t dim_count = 0;
    std::memcpy(&dim_count, part.data(), sizeof dim_count);
    std::vector<int64_t> dims(static_cast<size_t>(dim_count));
    std::memcpy(dims.data(), part.data() + sizeof dim_count, dims.size() * sizeof(int64_t));
    const size_t head = sizeof dim_count + dims.size() * sizeof(int64_t);
    if (!all.defined()) {
      std::vector<int64_t> full = dims;
      full[0] = total_rows;
      all = Tensor::empty(Shape(full));
    }
    const int64_t row_floats = all.numel() / total_rows;
    std::memcpy(all.data() + row * row_floats, part.data() + head, part.size() - head);
    row += dims[0];
  }
  return all;
}

}  // namespace

data::Dataset cache_features(models::Transfer& model, const data::Dataset& set, Device device, int64_t batch_size,
                             bool quiet, distributed::Communicator* comm) {
  for (const auto& [name, p] : model.base->named_parameters())
    NIB_CHECK(!p.requires_grad(), "--cache-features: base parameter ", name,
              " is trainable; features can only be cached while the whole base is frozen");
  NIB_CHECK(batch_size > 0, "cache_features: batch size must be positive");
  distributed::Communicator& ranks = comm ? *comm : distributed::single_process();
  NoGrad no_grad;
  const bool was_training = model.is_training();
  model.eval();  // frozen layers behave the same in both modes; dropout sits in the head, after the cache
  const distributed::RowRange mine = distributed::shard_rows(set.size(), ranks.rank(), ranks.size());
  Tensor features = features_of_rows(model, set, device, batch_size, quiet, mine.begin, mine.end);
  if (ranks.size() > 1) features = gather_rows(ranks, features, set.size());
  if (was_training) model.train();
  data::Dataset out = set;
  out.images = features;
  out.source = set.source + " (cached features)";
  return out;
}

}  // namespace nib::train
