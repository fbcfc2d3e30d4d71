// nib predict: use a trained run on new images, or evaluate it on a labelled set.
//
//   nib predict --run runs/basic-cnn-mnist digit.png other.png    top classes per image
//   nib predict --run runs/basic-cnn-mnist --data mnist            accuracy, confusion.png, samples.png
#include <algorithm>
#include <cstdio>

#include "apps/commands.h"
#include "apps/common.h"
#include "layers/state_dict.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "train/evaluate.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/training_data.h"
#include "util/files.h"
#include "util/image.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib predict --run DIR [IMAGE...] [options]

Loads the model trained in DIR (run.json + model.safetensors) and
  - with image files: prints the top classes of each;
  - with --data SPEC: writes predictions.csv (Kaggle's ImageId,Label format) and
    samples.png to --out (default DIR/eval-<data>); on labelled data also prints
    the accuracy and writes confusion.png.

  --run DIR          a run directory written by nib train
  --data SPEC        mnist | IDX directory | digits .csv | class folders
  --top K            classes shown per image (default 3)
  --out DIR          where the figures of --data go
  --device cpu|cuda  (default cpu)
  --kernels SPEC     implementation choice
)";

// An image file as the model's input: its channels and size, values in [0, 1].
Tensor load_input(const std::string& path, int64_t channels, int64_t size) {
  Image image = load_image(path, static_cast<int>(channels));
  if (image.width != size || image.height != size) image = resize(image, static_cast<int>(size), static_cast<int>(size));
  Tensor chw = image_to_tensor(image);
  return chw.reshape({1, chw.size(0), chw.size(1), chw.size(2)});
}

}  // namespace

int predict(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string run_dir = args.require("run");
  std::string data_spec = args.get("data", "");
  int64_t top = args.get_int("top", 3);
  std::string out = args.get("out", "");
  Device device = parse_device(args.get("device", "cpu"));
  configure_runtime(args);
  args.finish();
  require_device(device);
  NIB_CHECK(!args.positional().empty() || !data_spec.empty(),
            "give image files to classify or --data to evaluate on (see nib predict --help)");

  train::RunInfo info = train::load_run_info(run_dir);
  ModulePtr model = models::build_model(info.model);
  load_module(*model, run_dir + "/model.safetensors");
  model->to(device);
  model->eval();
  const auto& names = info.class_names;

  if (!data_spec.empty()) {
    data::Dataset set = train::load_evaluation_data(data_spec, info.model.image_size, info.model.in_channels);
    std::vector<int32_t> labels = set.label_vector();  // empty for an unlabelled set (Kaggle's test.csv)
    train::Predictions predictions = train::predict(*model, set.images, labels, device);
    std::string dir = out.empty() ? run_dir + "/eval-" + data_spec.substr(data_spec.find_last_of('/') + 1) : out;
    make_dirs(dir);
    train::write_prediction_figures(set, predictions, names, info.model.name + " on " + data_spec, dir);
    // Every prediction as CSV, in Kaggle's submission format (ImageId from 1).
    std::string csv = "ImageId,Label\n";
    for (size_t i = 0; i < predictions.predicted.size(); ++i)
      csv += std::to_string(i + 1) + "," +
             (static_cast<size_t>(predictions.predicted[i]) < names.size() ? names[predictions.predicted[i]]
                                                                          : std::to_string(predictions.predicted[i])) +
             "\n";
    write_file_atomic(dir + "/predictions.csv", csv);
    if (labels.empty())
      std::printf("%lld images classified (no labels to score against)\n", static_cast<long long>(set.size()));
    else
      std::printf("accuracy: %.2f%% on %lld images (loss %.4f)\n", 100.0 * predictions.accuracy(),
                  static_cast<long long>(set.size()), predictions.mean_loss);
    std::printf("written: %s/predictions.csv, %s/samples.png%s\n", dir.c_str(), dir.c_str(),
                labels.empty() ? "" : str(", ", dir, "/confusion.png").c_str());
  }

  NoGrad no_grad;
  for (const std::string& path : args.positional()) {
    Tensor x = load_input(path, info.model.in_channels, info.model.image_size).to(device);
    std::vector<float> probs = ops::softmax((*model)(x)).to_vector();
    std::vector<int64_t> order(probs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    int64_t k = std::min<int64_t>(top, static_cast<int64_t>(order.size()));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
    std::printf("%s:", path.c_str());
    for (int64_t i = 0; i < k; ++i) {
      int64_t c = order[i];
      std::printf("  %s %.1f%%", static_cast<size_t>(c) < names.size() ? names[c].c_str() : std::to_string(c).c_str(),
                  100.0 * probs[c]);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace nib::apps
