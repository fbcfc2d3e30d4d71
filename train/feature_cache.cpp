#include "train/feature_cache.h"

#include <algorithm>
#include <cstring>

#include "tensor/autograd.h"
#include "util/progress.h"

namespace nib::train {

data::Dataset cache_features(models::Transfer& model, const data::Dataset& set, Device device, int64_t batch_size,
                             bool quiet) {
  for (const auto& [name, p] : model.base->named_parameters())
    NIB_CHECK(!p.requires_grad(), "--cache-features: base parameter ", name,
              " is trainable; features can only be cached while the whole base is frozen");
  NIB_CHECK(batch_size > 0, "cache_features: batch size must be positive");
  NoGrad no_grad;
  const bool was_training = model.is_training();
  model.eval();  // frozen layers behave the same in both modes; dropout sits in the head, after the cache
  const int64_t n = set.size();
  Tensor features;
  ProgressBar bar((n + batch_size - 1) / batch_size, "features");
  for (int64_t begin = 0, step = 0; begin < n; begin += batch_size, ++step) {
    int64_t end = std::min(n, begin + batch_size);
    Tensor out = model.frozen_features(set.images.slice_rows(begin, end).to(device)).cpu();
    if (!features.defined()) {  // the shape of one example is known after the first batch
      std::vector<int64_t> dims = out.shape().dims();
      dims[0] = n;
      features = Tensor::empty(Shape(dims));
    }
    const int64_t row = out.numel() / out.size(0);
    std::memcpy(features.data() + begin * row, out.data(), sizeof(float) * out.numel());
    if (!quiet) bar.update(step + 1, end, {});
  }
  if (!quiet && n > 0) bar.finish({}, n);
  if (was_training) model.train();
  data::Dataset out = set;
  out.images = features;
  out.source = set.source + " (cached features)";
  return out;
}

}  // namespace nib::train
