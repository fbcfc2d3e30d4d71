// How good a retrieval is, with class labels as the ground truth: a database
// item is relevant to a query when it has the query's label.
//
//   precision@k  the fraction of the k nearest that are relevant
//   AP           the mean, over the relevant items, of the precision at the
//                rank where each one appears (1 when all relevant come first)
//   mAP          AP averaged over queries
//
// Leave-one-out (a labelled index evaluated against itself) removes each
// query from its own ranking.
#pragma once

#include <cstdint>
#include <vector>

#include "retrieval/search.h"

namespace nib::retrieval {

struct RetrievalScores {
  double p_at_1 = 0, p_at_5 = 0, p_at_10 = 0, map = 0;
  int64_t queries = 0;
};

// queries [q, d] with labels, database [n, d] with labels. With leave_one_out
// the queries must be the database itself.
RetrievalScores evaluate_retrieval(const Tensor& queries, const std::vector<int32_t>& query_labels,
                                   const Tensor& database, const std::vector<int32_t>& database_labels,
                                   Metric metric, bool leave_one_out);

// AP of one ranking: relevant[r] says whether the item at rank r (0-based) is relevant.
double average_precision(const std::vector<bool>& relevant);

}  // namespace nib::retrieval
