// How a batch (or an evaluation set) is cut between ranks: contiguous blocks
// in rank order, as even as possible. With 64 rows on 2 ranks each takes 32;
// 65 rows give rank 0 33 and rank 1 32. A rank gets no row only when there
// are fewer rows than ranks (the last, short batch of an epoch).
//
// Header-only and free of dependencies: the data loader uses it too.
#pragma once

#include <cstdint>

namespace nib::distributed {

struct RowRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};

// The rows of [0, rows) that rank `rank` of `ranks` takes: the first
// rows % ranks ranks take one row more than the others.
inline RowRange shard_rows(int64_t rows, int rank, int ranks) {
  const int64_t base = rows / ranks, extra = rows % ranks;
  const int64_t begin = rank * base + (rank < extra ? rank : extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace nib::distributed
