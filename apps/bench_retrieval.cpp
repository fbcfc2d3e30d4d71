// nib bench-retrieval: how long a brute-force top-k search takes.
//
//   nib bench-retrieval                       60,000 x 1,280 database, 1,000 queries, top-10
//   nib bench-retrieval --n 10000 --dim 512 --json
//
// The features are random (the time does not depend on their values): this
// measures retrieval::search, i.e. one GEMM per block of queries, the
// selection of the k best and their exact re-ranking.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "apps/commands.h"
#include "apps/common.h"
#include "kernels/runtime_flags.h"
#include "retrieval/search.h"
#include "tensor/random.h"
#include "util/json.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib bench-retrieval [options]

  --n N          database rows (default 60000)
  --dim D        feature dimension (default 1280)
  --queries Q    queries (default 1000)
  --k K          neighbours per query (default 10)
  --metric M     euclidean | cosine (default euclidean)
  --repeat R     timed runs after one warm-up; the best counts (default 3)
  --json         print the result as one JSON object
  --kernels SPEC, --threads N
)";

}  // namespace

int bench_retrieval(int argc, char** argv) {
  Args args(argc, argv, 2, {"help", "json"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  int64_t n = args.get_int("n", 60000), dim = args.get_int("dim", 1280), q = args.get_int("queries", 1000);
  int64_t k = args.get_int("k", 10), repeat = args.get_int("repeat", 3);
  retrieval::Metric metric = retrieval::parse_metric(args.get("metric", "euclidean"));
  bool as_json = args.flag("json");
  kernels::apply_runtime_flags(args);
  args.finish();
  NIB_CHECK(n >= 1 && dim >= 1 && q >= 1 && repeat >= 1, "bench-retrieval: sizes and --repeat must be positive");

  Generator gen(1);
  Tensor database = Tensor::randn({n, dim}, gen), queries = Tensor::randn({q, dim}, gen);
  double best = 1e30;
  for (int64_t run = 0; run <= repeat; ++run) {  // run 0 warms caches and thread pools up
    auto start = std::chrono::steady_clock::now();
    auto results = retrieval::search(queries, database, k, metric);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run > 0) best = std::min(best, seconds);
  }
  double ms_per_query = 1000.0 * best / static_cast<double>(q);
  double gflops = 2.0 * static_cast<double>(n) * dim * q / best / 1e9;  // of the whole search, as if all GEMM
  if (as_json) {
    json::Value v = json::Value::object();
    v["database"] = n;
    v["dim"] = dim;
    v["queries"] = q;
    v["k"] = k;
    v["metric"] = retrieval::metric_name(metric);
    v["threads"] = omp_get_max_threads();
    v["seconds"] = best;
    v["ms_per_query"] = ms_per_query;
    v["effective_gflops"] = gflops;
    std::printf("%s\n", json::dump(v, 2).c_str());
  } else {
    std::printf("database %lld x %lld, %lld queries, top-%lld, %s, %d threads\n", static_cast<long long>(n),
                static_cast<long long>(dim), static_cast<long long>(q), static_cast<long long>(k),
                retrieval::metric_name(metric), omp_get_max_threads());
    std::printf("best of %lld: %.3f s, %.3f ms per query (%.1f GFLOP/s counting the GEMM's 2*n*d per query)\n",
                static_cast<long long>(repeat), best, ms_per_query, gflops);
  }
  return 0;
}

}  // namespace nib::apps
