// DataLoader: batch sizes, reproducible order by (seed, epoch), prefetching
// that changes nothing but timing, and early exits that do not hang.
#include <algorithm>
#include <set>

#include "datasets/loader.h"
#include "datasets/split.h"
#include "tests/helpers.h"

using namespace nib;
using namespace nib::data;

namespace {

// n examples of 1x2x2 whose pixels all equal the example's index, labelled i % 3.
Dataset numbered_set(int64_t n) {
  Dataset set;
  set.images = Tensor::empty({n, 1, 2, 2});
  set.labels = Tensor::empty({n}, kCPU, DType::I32);
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) set.images.data()[i * 4 + k] = static_cast<float>(i);
    set.labels.data_as<int32_t>()[i] = static_cast<int32_t>(i % 3);
  }
  set.class_names = numbered_classes(3);
  return set;
}

// Options without designated initializers (GCC warns about the nested
// AugmentConfig they leave out).
LoaderOptions make_options(int64_t batch_size, uint64_t seed = 0, bool shuffle = true, bool drop_last = false,
                           int prefetch = 2) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.seed = seed;
  o.shuffle = shuffle;
  o.drop_last = drop_last;
  o.prefetch = prefetch;
  return o;
}

std::vector<Batch> collect(const DataLoader& loader, int64_t e) {
  std::vector<Batch> batches;
  auto epoch = loader.epoch(e);
  while (auto b = epoch.next()) batches.push_back(std::move(*b));
  return batches;
}

bool same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].indices != b[i].indices || a[i].images.to_vector() != b[i].images.to_vector()) return false;
  return true;
}

}  // namespace

TEST_CASE("a loader covers every chosen example once per epoch, in batches of batch_size") {
  Dataset set = numbered_set(23);
  std::vector<int64_t> chosen = {0, 2, 3, 5, 7, 11, 13, 17, 19, 20, 22};
  DataLoader loader(set, chosen, make_options(4, 7));
  CHECK(loader.batches_per_epoch() == 3);
  std::vector<Batch> batches = collect(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].images.shape() == Shape{4, 1, 2, 2});
  CHECK(batches[2].images.shape() == Shape{3, 1, 2, 2});  // the remainder

  std::vector<int64_t> seen;
  for (const Batch& b : batches) {
    std::vector<float> px = b.images.to_vector();
    const int32_t* y = b.labels.data_as<int32_t>();
    for (size_t k = 0; k < b.indices.size(); ++k) {
      CHECK(px[k * 4] == static_cast<float>(b.indices[k]));  // the images are the indexed examples
      CHECK(y[k] == b.indices[k] % 3);
      seen.push_back(b.indices[k]);
    }
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen == chosen);

  DataLoader drop(set, chosen, make_options(4, 0, true, /*drop_last=*/true));
  CHECK(drop.batches_per_epoch() == 2);
  CHECK(collect(drop, 0).size() == 2);
}

TEST_CASE("the shuffle is uniform: every example lands in every position about equally often") {
  // 4000 epochs of 5 examples: each (example, position) pair is expected 800
  // times (standard deviation 25). A shuffle that never moved the last example,
  // or favoured a position, would be off by hundreds.
  Dataset set = numbered_set(5);
  DataLoader loader(set, all_indices(5), make_options(5, 99));
  int counts[5][5] = {};
  for (int64_t e = 0; e < 4000; ++e) {
    std::vector<int64_t> order = loader.order(e);
    for (int position = 0; position < 5; ++position) counts[order[position]][position]++;
  }
  for (int example = 0; example < 5; ++example)
    for (int position = 0; position < 5; ++position) {
      CAPTURE(example);
      CAPTURE(position);
      CHECK(counts[example][position] > 700);
      CHECK(counts[example][position] < 900);
    }
}

TEST_CASE("the order depends only on (seed, epoch): a resumed run sees the same batches") {
  Dataset set = numbered_set(50);
  LoaderOptions options = make_options(8, 123);
  DataLoader first(set, all_indices(50), options);
  std::vector<Batch> e0 = collect(first, 0), e1 = collect(first, 1), e2 = collect(first, 2);
  CHECK_FALSE(same_batches(e0, e1));  // shuffled anew each epoch
  CHECK(e0[0].indices != all_indices(50) /* not the identity either */);

  DataLoader resumed(set, all_indices(50), options);  // a fresh process starting at epoch 2
  CHECK(same_batches(collect(resumed, 2), e2));

  options.seed = 124;
  DataLoader other_seed(set, all_indices(50), options);
  CHECK_FALSE(same_batches(collect(other_seed, 0), e0));

  DataLoader in_order(set, all_indices(50), make_options(8, 0, /*shuffle=*/false));
  CHECK(collect(in_order, 5)[0].indices == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("prefetching and augmentation are reproducible and independent of the queue depth") {
  Dataset set = numbered_set(40);
  LoaderOptions options = make_options(6, 9);
  options.augment = AugmentConfig::parse("contrast=0.5,shift=0.2");
  std::vector<Batch> reference;
  for (int prefetch : {0, 1, 2, 5}) {
    options.prefetch = prefetch;
    DataLoader loader(set, all_indices(40), options);
    std::vector<Batch> batches = collect(loader, 3);
    CAPTURE(prefetch);
    if (reference.empty())
      reference = batches;
    else
      CHECK(same_batches(batches, reference));
  }
}

TEST_CASE("leaving an epoch early stops its background thread") {
  Dataset set = numbered_set(1000);
  DataLoader loader(set, all_indices(1000), make_options(10, 0, true, false, /*prefetch=*/3));
  for (int e = 0; e < 20; ++e) {
    auto epoch = loader.epoch(e);
    auto b = epoch.next();
    REQUIRE(b.has_value());
  }  // each epoch is destroyed with its queue full and the worker waiting

  auto moved = loader.epoch(0);
  auto target = std::move(moved);
  int count = 0;
  while (auto b = target.next()) ++count;
  CHECK(count == 100);
  CHECK_FALSE(target.next().has_value());  // stays finished
}

TEST_CASE("unlabelled sets give batches without labels; bad options are errors") {
  Dataset set = numbered_set(5);
  set.labels = Tensor();
  DataLoader loader(set, all_indices(5), make_options(2, 0, /*shuffle=*/false));
  auto batches = collect(loader, 0);
  REQUIRE(batches.size() == 3);
  CHECK_FALSE(batches[0].labels.defined());
  CHECK_THROWS_AS(DataLoader(set, {5}, {}), Error);
  CHECK_THROWS_AS(DataLoader(set, all_indices(5), make_options(0)), Error);
}
