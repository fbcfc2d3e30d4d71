// nib eval-retrieval: how well an index finds images of the query's class.
//
//   nib eval-retrieval --index photos.nibindex                     leave-one-out over the index
//   nib eval-retrieval --index mnist-train.nibindex --queries mnist:test --json
//
// Scores: precision at 1, 5 and 10 and mean average precision (see
// retrieval/metrics.h), with the class labels as the ground truth.
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "apps/common.h"
#include "kernels/runtime_flags.h"
#include "retrieval/indexing.h"
#include "retrieval/metrics.h"
#include "util/files.h"
#include "util/json.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib eval-retrieval --index FILE [--queries DIR|DATA:SPLIT] [options]

Without --queries every image of the (labelled) index is a query against the
others (leave-one-out). With --queries, a labelled folder or data set is
embedded like the index and searched in it; its class names must be the
index's.

  --metric M     euclidean | cosine (default euclidean)
  --out FILE     where the scores go as JSON (default: the index's name with .eval.json)
  --json         print only the JSON object on stdout
  --kernels SPEC, --threads N
)";

}  // namespace

int eval_retrieval(int argc, char** argv) {
  Args args(argc, argv, 2, {"help", "json"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string index_path = args.require("index");
  std::string queries_spec = args.get("queries", "");
  retrieval::Metric metric = retrieval::parse_metric(args.get("metric", "euclidean"));
  std::string out = args.get("out", std::filesystem::path(index_path).replace_extension(".eval.json").string());
  bool as_json = args.flag("json");
  kernels::apply_runtime_flags(args);
  args.finish();

  retrieval::ImageIndex index = retrieval::ImageIndex::load(index_path);
  NIB_CHECK(index.labelled(), index_path, " has no labels (its images were not in class folders): nothing to score");
  retrieval::RetrievalScores scores;
  if (queries_spec.empty()) {
    scores = retrieval::evaluate_retrieval(index.features, index.labels, index.features, index.labels, metric, true);
  } else {
    retrieval::ImageSource queries = retrieval::open_image_source(queries_spec);
    NIB_CHECK(queries.labelled(), queries_spec, " has no labels (put its images in class folders)");
    std::vector<int32_t> labels = retrieval::labels_in_index(index, queries);
    for (size_t i = 0; i < labels.size(); ++i)
      NIB_CHECK(labels[i] >= 0, queries.full_path(static_cast<int64_t>(i)), ": class '",
                queries.class_names[queries.labels[i]], "' is not one of the index's classes");
    Tensor features = retrieval::embed_like_index(index, queries, !as_json);
    scores = retrieval::evaluate_retrieval(features, labels, index.features, index.labels, metric, false);
  }

  json::Value result = json::Value::object();
  result["p_at_1"] = scores.p_at_1;
  result["p_at_5"] = scores.p_at_5;
  result["p_at_10"] = scores.p_at_10;
  result["map"] = scores.map;
  result["queries"] = scores.queries;
  result["database"] = index.size();
  result["mode"] = queries_spec.empty() ? std::string("leave-one-out") : queries_spec;
  result["metric"] = retrieval::metric_name(metric);
  result["extractor"] = retrieval::describe_extractor(index.extractor);
  write_file_atomic(out, json::dump(result, 2) + "\n");
  if (as_json) {
    std::printf("%s\n", json::dump(result, 2).c_str());
    return 0;
  }
  std::printf("%s, %s distance, %s: %lld queries, %lld images\n", retrieval::describe_extractor(index.extractor).c_str(),
              retrieval::metric_name(metric), queries_spec.empty() ? "leave-one-out" : queries_spec.c_str(),
              static_cast<long long>(scores.queries), static_cast<long long>(index.size()));
  std::printf("P@1 %.3f  P@5 %.3f  P@10 %.3f  mAP %.3f\nscores: %s\n", scores.p_at_1, scores.p_at_5, scores.p_at_10,
              scores.map, out.c_str());
  return 0;
}

}  // namespace nib::apps
