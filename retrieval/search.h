// Exact nearest-neighbour search by brute force, as one matrix product.
//
// For queries Q [q, d] and a database X [n, d], squared Euclidean distances are
//   |q - x|² = |q|² + |x|² - 2 q·x
// so all q×n distances cost one GEMM (Q·Xᵀ, nib's fastest kernel on either
// device) plus two vectors of norms; cosine distance is 1 - q·x / (|q||x|).
// The k best per query are then picked with a partial selection, O(n) per
// query instead of a full sort.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nib::retrieval {

enum class Metric { Euclidean, Cosine };
Metric parse_metric(const std::string& name);  // "euclidean" | "cosine"
const char* metric_name(Metric metric);

struct Neighbour {
  int64_t index = 0;     // row in the database
  float distance = 0.f;  // Euclidean (not squared) or cosine distance
};

// All distances [q, n] (on the tensors' device; returned on the CPU).
Tensor distances(const Tensor& queries, const Tensor& database, Metric metric);

// The k nearest database rows for each query, nearest first; ties go to the
// lower index. exclude[i] >= 0 removes that database row from query i's
// results (leave-one-out, --exclude-self). Queries run in blocks of
// `block` rows so memory stays bounded for large databases.
std::vector<std::vector<Neighbour>> search(const Tensor& queries, const Tensor& database, int64_t k, Metric metric,
                                           const std::vector<int64_t>& exclude = {}, int64_t block = 1024);

// Rows scaled to unit L2 norm (rows of zeros stay zero).
Tensor l2_normalize_rows(const Tensor& x);

}  // namespace nib::retrieval
