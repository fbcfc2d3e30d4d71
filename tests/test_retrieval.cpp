// Brute-force search and retrieval metrics against direct computations.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "retrieval/metrics.h"
#include "retrieval/search.h"
#include "tests/helpers.h"

using namespace nib;
using nib::retrieval::Metric;

namespace {
double direct_distance(const std::vector<float>& a, const std::vector<float>& b, int64_t i, int64_t j, int64_t d,
                       Metric metric) {
  double dot = 0, na = 0, nb = 0, sq = 0;
  for (int64_t k = 0; k < d; ++k) {
    double x = a[i * d + k], y = b[j * d + k];
    dot += x * y, na += x * x, nb += y * y, sq += (x - y) * (x - y);
  }
  return metric == Metric::Euclidean ? std::sqrt(sq) : 1.0 - dot / std::sqrt(na * nb);
}
}  // namespace

TEST_CASE("retrieval: distances from one GEMM equal direct computation") {
  for (Metric metric : {Metric::Euclidean, Metric::Cosine}) {
    Tensor q = testing::random_tensor({7, 13}, 1), x = testing::random_tensor({29, 13}, 2);
    std::vector<float> qv = q.to_vector(), xv = x.to_vector();
    std::vector<float> d = retrieval::distances(q, x, metric).to_vector();
    double worst = 0;
    for (int64_t i = 0; i < 7; ++i)
      for (int64_t j = 0; j < 29; ++j)
        worst = std::max(worst, std::fabs(d[i * 29 + j] - direct_distance(qv, xv, i, j, 13, metric)));
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("retrieval: top-k equals a full sort, nearest first, with self excluded on request") {
  Tensor x = testing::random_tensor({50, 8}, 3);
  std::vector<float> xv = x.to_vector();
  auto results = retrieval::search(x, x, 5, Metric::Euclidean, {}, /*block=*/16);
  auto excluded = retrieval::search(x, x, 5, Metric::Euclidean, std::vector<int64_t>{[] {
                                      std::vector<int64_t> v(50);
                                      for (int i = 0; i < 50; ++i) v[i] = i;
                                      return v;
                                    }()});
  for (int64_t i = 0; i < 50; ++i) {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t j = 0; j < 50; ++j) all.push_back({direct_distance(xv, xv, i, j, 8, Metric::Euclidean), j});
    std::sort(all.begin(), all.end());
    CHECK(results[i][0].index == i);  // itself, at distance ~0
    CHECK(results[i][0].distance == doctest::Approx(0.0).epsilon(1e-3));
    for (int r = 0; r < 5; ++r) {
      CHECK(results[i][r].index == all[r].second);
      CHECK(excluded[i][r].index == all[r + 1].second);
    }
  }
}

TEST_CASE("retrieval: bad requests are errors") {
  Tensor x = testing::random_tensor({4, 3}, 4), y = testing::random_tensor({2, 5}, 5);
  CHECK_THROWS_WITH_AS(retrieval::search(y, x, 2, Metric::Euclidean), doctest::Contains("5-d features"), Error);
  CHECK_THROWS_WITH_AS(retrieval::search(x, x, 5, Metric::Euclidean), doctest::Contains("only 4"), Error);
  CHECK_THROWS_AS(retrieval::parse_metric("manhattan"), Error);
}

TEST_CASE("retrieval: average precision and leave-one-out scores") {
  CHECK(retrieval::average_precision({true, false, true}) == doctest::Approx((1.0 + 2.0 / 3.0) / 2.0));
  CHECK(retrieval::average_precision({false, false}) == 0.0);
  CHECK(retrieval::average_precision({true, true, false}) == 1.0);

  // Three well-separated clusters of 12 points: every neighbour is relevant.
  std::vector<float> v;
  std::vector<int32_t> labels;
  Generator gen(7);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 12; ++i) {
      for (int k = 0; k < 4; ++k) v.push_back((k == c ? 10.0f : 0.0f) + 0.1f * gen.normal());
      labels.push_back(c);
    }
  Tensor x = Tensor::from_vector(v, {36, 4});
  auto s = retrieval::evaluate_retrieval(x, labels, x, labels, Metric::Euclidean, true);
  CHECK(s.p_at_1 == 1.0);
  CHECK(s.p_at_10 == 1.0);
  CHECK(s.map == doctest::Approx(1.0));
  // Shuffled labels make the scores fall to chance (~1/3).
  std::vector<int32_t> shuffled = labels;
  for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i] = static_cast<int32_t>(i % 3);
  auto chance = retrieval::evaluate_retrieval(x, shuffled, x, shuffled, Metric::Euclidean, true);
  CHECK(chance.map < 0.6);
}
