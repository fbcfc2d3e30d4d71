#include "retrieval/metrics.h"

#include <algorithm>
#include <numeric>

namespace nib::retrieval {

double average_precision(const std::vector<bool>& relevant) {
  double sum = 0.0;
  int64_t hits = 0;
  for (size_t r = 0; r < relevant.size(); ++r) {
    if (!relevant[r]) continue;
    ++hits;
    sum += static_cast<double>(hits) / static_cast<double>(r + 1);
  }
  return hits ? sum / static_cast<double>(hits) : 0.0;
}

RetrievalScores evaluate_retrieval(const Tensor& queries, const std::vector<int32_t>& query_labels,
                                   const Tensor& database, const std::vector<int32_t>& database_labels,
                                   Metric metric, bool leave_one_out) {
  int64_t q = queries.size(0), n = database.size(0);
  NIB_CHECK(static_cast<int64_t>(query_labels.size()) == q && static_cast<int64_t>(database_labels.size()) == n,
            "evaluate_retrieval: every query and database item needs a label");
  NIB_CHECK(!leave_one_out || q == n, "evaluate_retrieval: leave-one-out needs the queries to be the database");
  NIB_CHECK(n - (leave_one_out ? 1 : 0) >= 10, "evaluate_retrieval: the database needs at least 10 candidates");

  std::vector<double> p1(q), p5(q), p10(q), ap(q);
  const int64_t block = 512;
  for (int64_t begin = 0; begin < q; begin += block) {
    int64_t end = std::min(q, begin + block);
    Tensor d = distances(queries.slice_rows(begin, end), database, metric);
    const float* dist = d.data();
#pragma omp parallel for schedule(dynamic)
    for (int64_t i = begin; i < end; ++i) {
      const float* row = dist + (i - begin) * n;
      // (distance, row) pairs sort nearest first with ties to the lower row, as search() ranks;
      // sorting the pairs themselves keeps the comparisons in cache.
      std::vector<std::pair<float, int64_t>> ranked;
      ranked.reserve(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; ++j)
        if (!(leave_one_out && j == i)) ranked.emplace_back(row[j], j);
      std::sort(ranked.begin(), ranked.end());
      std::vector<bool> relevant(ranked.size());
      for (size_t r = 0; r < ranked.size(); ++r) relevant[r] = database_labels[ranked[r].second] == query_labels[i];
      auto precision_at = [&](size_t k) {
        return static_cast<double>(std::count(relevant.begin(), relevant.begin() + k, true)) / k;
      };
      p1[i] = precision_at(1);
      p5[i] = precision_at(5);
      p10[i] = precision_at(10);
      ap[i] = average_precision(relevant);
    }
  }
  auto mean = [&](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
  return {mean(p1), mean(p5), mean(p10), mean(ap), q};
}

}  // namespace nib::retrieval
