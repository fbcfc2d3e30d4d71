#include "retrieval/search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/ops.h"
#include "tensor/autograd.h"

namespace nib::retrieval {

Metric parse_metric(const std::string& name) {
  if (name == "euclidean" || name == "l2") return Metric::Euclidean;
  if (name == "cosine") return Metric::Cosine;
  fail("unknown metric '", name, "' (expected euclidean or cosine)");
}

const char* metric_name(Metric metric) { return metric == Metric::Cosine ? "cosine" : "euclidean"; }

namespace {

// |x_r|² of every row, accumulated in double so long rows stay exact to float precision.
std::vector<float> row_norms_squared(const Tensor& x) {
  Tensor host = x.cpu();
  const float* v = host.data();
  int64_t rows = x.size(0), d = x.size(1);
  std::vector<float> out(static_cast<size_t>(rows));
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(v[r * d + j]) * v[r * d + j];
    out[r] = static_cast<float>(s);
  }
  return out;
}

void check_inputs(const Tensor& queries, const Tensor& database) {
  NIB_CHECK(queries.dim() == 2 && database.dim() == 2, "search: expected 2-D feature matrices, got ",
            queries.shape(), " and ", database.shape());
  NIB_CHECK(queries.size(1) == database.size(1), "search: queries have ", queries.size(1),
            "-d features but the database has ", database.size(1), "-d features (built with another model or layer?)");
}

// distances() with the database's norms computed once by the caller.
Tensor distances_given_norms(const Tensor& queries, const Tensor& database, const std::vector<float>& xn,
                             Metric metric) {
  NoGrad no_grad;
  // q·x for every pair: one GEMM, Q [q, d] · Xᵀ.
  Tensor result = ops::linear(queries, database.to(queries.device()), Tensor()).cpu();
  float* dots = result.data();
  std::vector<float> qn = row_norms_squared(queries);
  int64_t q = queries.size(0), n = database.size(0);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < q; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float& d = dots[i * n + j];
      if (metric == Metric::Euclidean) {
        d = std::sqrt(std::max(0.0f, qn[i] + xn[j] - 2.0f * d));  // clamp: rounding can go slightly negative
      } else {
        float denominator = std::sqrt(qn[i] * xn[j]);
        d = denominator > 0 ? 1.0f - d / denominator : 1.0f;
      }
    }
  }
  return result;
}

}  // namespace

Tensor distances(const Tensor& queries, const Tensor& database, Metric metric) {
  check_inputs(queries, database);
  return distances_given_norms(queries, database, row_norms_squared(database), metric);
}

std::vector<std::vector<Neighbour>> search(const Tensor& queries, const Tensor& database, int64_t k, Metric metric,
                                           const std::vector<int64_t>& exclude, int64_t block) {
  check_inputs(queries, database);
  int64_t q = queries.size(0), n = database.size(0);
  NIB_CHECK(k >= 1, "search: k must be at least 1");
  int64_t available = n - (exclude.empty() ? 0 : 1);
  NIB_CHECK(k <= available, "search: k = ", k, " but the database holds only ", available,
            " candidate images per query");
  NIB_CHECK(exclude.empty() || static_cast<int64_t>(exclude.size()) == q, "search: exclude list has ",
            exclude.size(), " entries for ", q, " queries");

  // The GEMM form loses precision to cancellation when two vectors are close
  // (a query found in the database comes out at ~1e-3 instead of 0), so the k
  // winners' distances are recomputed directly in double precision.
  Tensor host_queries = queries.cpu(), host_database = database.cpu();
  const float* qv = host_queries.data();
  const float* xv = host_database.data();
  const int64_t dim = queries.size(1);
  auto exact = [&](int64_t i, int64_t j) {
    const float* a = qv + i * dim;
    const float* b = xv + j * dim;
    double dot = 0, na = 0, nb = 0, sq = 0;
    for (int64_t t = 0; t < dim; ++t) {
      double x = a[t], y = b[t];
      dot += x * y, na += x * x, nb += y * y, sq += (x - y) * (x - y);
    }
    if (metric == Metric::Euclidean) return static_cast<float>(std::sqrt(sq));
    return na > 0 && nb > 0 ? static_cast<float>(1.0 - dot / std::sqrt(na * nb)) : 1.0f;
  };

  std::vector<float> database_norms = row_norms_squared(database);
  std::vector<std::vector<Neighbour>> results(static_cast<size_t>(q));
  for (int64_t begin = 0; begin < q; begin += block) {
    int64_t end = std::min(q, begin + block);
    Tensor d = distances_given_norms(queries.slice_rows(begin, end), database, database_norms, metric);
    const float* dist = d.data();
#pragma omp parallel for schedule(dynamic)
    for (int64_t i = begin; i < end; ++i) {
      const float* row = dist + (i - begin) * n;
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      if (!exclude.empty() && exclude[i] >= 0) order.erase(order.begin() + exclude[i]);
      auto closer = [&](int64_t a, int64_t b) { return row[a] < row[b] || (row[a] == row[b] && a < b); };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), closer);
      auto& out = results[i];
      for (int64_t r = 0; r < k; ++r) out.push_back({order[r], exact(i, order[r])});
      std::stable_sort(out.begin(), out.end(), [](const Neighbour& a, const Neighbour& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.index < b.index);
      });
    }
  }
  return results;
}

Tensor l2_normalize_rows(const Tensor& x) {
  NIB_CHECK(x.dim() == 2, "l2_normalize_rows: expected [rows, d], got ", x.shape());
  std::vector<float> v = x.to_vector();
  int64_t rows = x.size(0), d = x.size(1);
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(v[r * d + j]) * v[r * d + j];
    if (s == 0) continue;
    float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (int64_t j = 0; j < d; ++j) v[r * d + j] *= inv;
  }
  return Tensor::from_vector(v, x.shape(), x.device());
}

}  // namespace nib::retrieval
