// `nib bench models` (see models.h). Timing: warm-up calls, then repeated
// calls until --budget seconds have passed (at least 3), median per call.
#include "bench/models.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>

#include "bench/bench_common.h"
#include "kernels/registry.h"
#include "kernels/runtime_flags.h"
#include "models/registry.h"
#include "ops/ops.h"
#include "optim/adam.h"
#include "tensor/autograd.h"
#include "tensor/random.h"
#include "util/args.h"
#include "util/files.h"
#include "util/json.h"

namespace nib::bench {

const std::vector<ModelCase>& model_cases() {
  // Batch sizes: MNIST-sized models as nib train runs them (128); the
  // ImageNet networks at 224x224 with a batch that keeps a training step of
  // VGG16 within seconds on two cores.
  static const std::vector<ModelCase> cases = {
      {"mlp", 1, 28, 10, 128},          {"basic-cnn", 1, 28, 10, 128}, {"mobilenet_v2", 3, 224, 1000, 16},
      {"resnet18", 3, 224, 1000, 16},   {"vgg16", 3, 224, 1000, 8},
  };
  return cases;
}

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

struct Measured {
  double images_per_s = 0, ms_per_batch = 0;
  int repeats = 0;
};

Measured measure(const ModelCase& c, const std::string& mode, double budget) {
  manual_seed(1);
  ModulePtr model = models::build_model({c.model, c.channels, c.size, c.classes, {}});
  Generator gen(2);
  Tensor x = Tensor::randn({c.batch, c.channels, c.size, c.size}, gen);
  Tensor labels = Tensor::empty({c.batch}, kCPU, DType::I32);
  for (int64_t i = 0; i < c.batch; ++i)
    labels.data_as<int32_t>()[i] = static_cast<int32_t>(gen.next_u32() % static_cast<uint32_t>(c.classes));

  Timing t;
  if (mode == "forward") {
    model->eval();
    t = time_median(
        [&] {
          NoGrad no_grad;
          Tensor logits = (*model)(x);
          (void)logits;
        },
        budget);
  } else {
    model->train();
    optim::Adam adam(model->parameters(), optim::AdamOptions{});
    t = time_median(
        [&] {
          Tensor loss = ops::cross_entropy((*model)(x), labels);
          adam.zero_grad();
          loss.backward();
          adam.step();
        },
        budget);
  }
  return {static_cast<double>(c.batch) / t.median_s, t.median_s * 1e3, t.repeats};
}

}  // namespace

int models_bench(int argc, char** argv) {
  Args args(argc, argv, 3, {});
  std::string names = args.get("models", "");
  const std::vector<std::string> modes = split_list(args.get("modes", "forward,train"));
  const double budget = args.get_double("budget", 3.0);
  const std::string json_path = args.get("json", "");
  kernels::apply_runtime_flags(args);  // --threads, --kernels
  args.finish();
  for (const std::string& m : modes) NIB_CHECK(m == "forward" || m == "train", "--modes: forward and/or train, not '", m, "'");
  std::vector<std::string> wanted = split_list(names);
  for (const std::string& w : wanted) {
    bool known = std::any_of(model_cases().begin(), model_cases().end(), [&](const ModelCase& c) { return c.model == w; });
    NIB_CHECK(known, "--models: no benchmark case for '", w, "' (mlp, basic-cnn, mobilenet_v2, resnet18, vgg16)");
  }

  const std::string load_before = load_average();
  const int threads = omp_get_max_threads();
  std::printf("nib bench models: %s, %d threads, kernels: %s, load average %s\n", cpu_description().c_str(), threads,
              kernels::describe().c_str(), load_before.c_str());
  std::printf("%-14s %-12s %6s %-8s %12s %12s\n", "model", "input", "batch", "mode", "images/s", "ms/batch");
  json::Value results = json::Value::array();
  for (const ModelCase& c : model_cases()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), c.model) == wanted.end()) continue;
    for (const std::string& mode : modes) {
      const std::string load = load_average();
      Measured m = measure(c, mode, budget);
      const std::string input = str(c.channels, "x", c.size, "x", c.size);
      std::printf("%-14s %-12s %6lld %-8s %12.1f %12.2f\n", c.model.c_str(), input.c_str(),
                  static_cast<long long>(c.batch), mode.c_str(), m.images_per_s, m.ms_per_batch);
      std::fflush(stdout);
      json::Value v = json::Value::object();
      v["model"] = c.model;
      v["input"] = input;
      v["batch"] = c.batch;
      v["mode"] = mode;
      v["images_per_s"] = m.images_per_s;
      v["ms_per_batch"] = m.ms_per_batch;
      v["repeats"] = m.repeats;
      v["load_average_before"] = load;
      results.as_array().push_back(v);
    }
  }
  if (!json_path.empty()) {
    json::Value doc = json::Value::object();
    doc["framework"] = "nib";
    doc["cpu"] = cpu_description();
    doc["threads"] = threads;
    doc["kernels"] = kernels::describe();
    doc["date"] = today();
    doc["timing"] = "median seconds per batch after one warm-up call, repeated for --budget seconds (at least 3)";
    doc["load_average_before"] = load_before;
    doc["load_average_after"] = load_average();
    doc["results"] = results;
    write_file_atomic(json_path, json::dump(doc, 2) + "\n");
  }
  return 0;
}

}  // namespace nib::bench
