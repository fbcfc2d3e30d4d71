// nib predict / nib eval: use a trained run on new images, or score it on a labelled set.
//
//   nib predict --model-dir runs/basic-cnn-mnist digit.png folder/      top classes per image
//   nib predict --model-dir runs/NAME --data test.csv --out submission.csv   Kaggle's ImageId,Label
//   nib eval --model-dir runs/basic-cnn-mnist --data mnist              accuracy and confusion matrix
//   nib predict --model-dir runs/basic-cnn-mnist my-digits/ --show     and a picture of what the model saw
//
// Image files (and folders given to --data) are prepared to look like the
// model's training images (datasets/input_style.h): MNIST-style for a model
// trained on MNIST-like data.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "apps/common.h"
#include "datasets/data_source.h"
#include "datasets/image_folder.h"
#include "datasets/input_style.h"
#include "kernels/runtime_flags.h"
#include "layers/state_dict.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "tensor/image_tensor.h"
#include "train/evaluate.h"
#include "train/prepared_grid.h"
#include "train/report.h"
#include "train/run_dir.h"
#include "train/training_data.h"
#include "util/files.h"
#include "util/image.h"

namespace nib::apps {

namespace {

const char* kPredictHelp = R"(usage: nib predict --model-dir DIR [IMAGE|FOLDER...] [options]

Loads the model trained in DIR (config.json + model.safetensors) and
  - with image files or folders: prints the top classes of each image;
  - with --data SPEC: writes every prediction in Kaggle's submission format
    (ImageId,Label, ImageId from 1) to --out (a .csv file, or a folder that
    gets predictions.csv; default DIR/predictions-<data>/), with a grid of
    sample predictions; on labelled data it also prints the accuracy.

Image files, and the images of a class folder given to --data, are first
prepared to look like the model's training images, as DIR/config.json
records. For a model trained on MNIST-like data (MNIST, Fashion-MNIST, digit
CSVs, IDX files) that is MNIST-style: transparent pixels become white, light
backgrounds are inverted, the ink is cropped, scaled into MNIST's 20x20 box
and centred by its centre of mass in 28x28. For a model trained on an image
folder: resized, and inverted when its background is the opposite of the
training images'.

  --model-dir DIR    a run directory written by nib train or nib finetune (alias --run)
  --data SPEC        mnist | IDX directory | digits .csv (labelled or not) | class folders
  --prepare MODE     auto (as the run records) | mnist | none (resized only); default auto
  --show             draw each image file beside what the model saw and its
                     top classes, into --grid (a class folder's name, such as
                     3/, frames the right guesses green and the wrong red)
  --grid FILE        where --show draws (default predictions.png; implies --show)
  --top K            classes shown per image (default 3)
  --out PATH         see above
  --device cpu|cuda  (default cpu)
  --kernels SPEC     implementation choice
)";

const char* kEvalHelp = R"(usage: nib eval --model-dir DIR --data SPEC [options]

Scores the model trained in DIR on labelled data (the test set of IDX data,
else the whole set): prints the accuracy and writes confusion.png,
misclassified.png and correct.png to --out (default DIR/eval-<data>/).

  --model-dir DIR    a run directory written by nib train or nib finetune (alias --run)
  --data SPEC        mnist | IDX directory | labelled digits .csv | class folders
  --prepare MODE     how a class folder's images are prepared: auto (as the run
                     records, see nib predict --help) | mnist | none; default auto
  --out DIR          where the figures go
  --device cpu|cuda, --kernels SPEC
)";

// What the model is given, said once before any image is prepared.
void announce(const data::InputStyle& style) {
  if (style.prepare != data::InputStyle::Prepare::None)
    std::fprintf(stderr, "preparing images %s (--prepare none: resized only)\n", style.describe().c_str());
}

// The images of --data are prepared only when it is a folder of image files.
bool is_image_folder(const std::string& spec) {
  return data::detect_data(spec).kind == data::DataKind::ImageFolder;
}

// The k most probable classes, best first.
std::vector<int64_t> top_classes(const std::vector<float>& probs, int64_t k) {
  std::vector<int64_t> order(probs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  k = std::min<int64_t>(k, static_cast<int64_t>(order.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
  order.resize(k);
  return order;
}

std::string last_component(const std::string& spec) {
  std::string s = spec;
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s.substr(s.find_last_of('/') + 1);
}

struct LoadedRun {
  train::RunInfo info;
  ModulePtr model;
};

LoadedRun load_run(Args& args, Device device) {
  std::string dir = args.get("model-dir", args.get("run", ""));
  NIB_CHECK(!dir.empty(), "--model-dir DIR is required (a run directory written by nib train)");
  LoadedRun run{train::load_run_info(dir), nullptr};
  run.model = models::build_model(run.info.model);
  load_module(*run.model, dir + "/model.safetensors");
  run.model->to(device);
  run.model->eval();
  return run;
}

std::string class_name(const std::vector<std::string>& names, int64_t c) {
  return static_cast<size_t>(c) < names.size() ? names[c] : std::to_string(c);
}

// Prints the top classes of each image file, prepared as `style` says; with
// a grid_path, draws each beside what the model saw (train/prepared_grid.h).
void predict_files(const std::vector<std::string>& files, const LoadedRun& run, const data::InputStyle& style,
                   int64_t top, Device device, const std::string& grid_path) {
  const auto& names = run.info.class_names;
  const int channels = static_cast<int>(run.info.model.in_channels), size = static_cast<int>(run.info.model.image_size);
  NoGrad no_grad;
  std::vector<train::ShownInput> shown;
  for (const std::string& path : files) {
    Image original = load_image(path);
    Image input = data::prepare_image(original, style, channels, size, path);
    Tensor chw = image_to_tensor(input);
    std::vector<float> probs =
        ops::softmax((*run.model)(chw.reshape({1, chw.size(0), chw.size(1), chw.size(2)}).to(device))).to_vector();
    std::printf("%s:", path.c_str());
    train::ShownInput item{std::filesystem::path(path).filename().string(), original, input, {}, ""};
    for (int64_t c : top_classes(probs, top)) {
      std::printf("  %s %.1f%%", class_name(names, c).c_str(), 100.0 * probs[c]);
      item.top.emplace_back(class_name(names, c), probs[c]);
    }
    std::printf("\n");
    // A file in a folder named after a class (own-digits/3/x.png) is taken to be of that class.
    std::string folder = std::filesystem::path(path).parent_path().filename().string();
    if (std::find(names.begin(), names.end(), folder) != names.end()) item.expected = folder;
    if (!grid_path.empty()) shown.push_back(std::move(item));
  }
  if (!grid_path.empty()) {
    viz::plot_image_grid(train::prepared_grid(shown, "what " + run.info.model.name + " saw"), grid_path);
    std::printf("grid: %s\n", grid_path.c_str());
  }
}

}  // namespace

int predict(int argc, char** argv) {
  Args args(argc, argv, 2, {"help", "show"});
  if (args.flag("help")) {
    std::fputs(kPredictHelp, stdout);
    return 0;
  }
  std::string dir_arg = args.get("model-dir", args.get("run", ""));
  std::string data_spec = args.get("data", "");
  int64_t top = args.get_int("top", 3);
  std::string out = args.get("out", "");
  std::string prepare_option = args.get("prepare", "auto");
  bool show = args.flag("show") || args.has("grid");
  std::string grid_path = args.get("grid", "predictions.png");
  Device device = parse_device(args.get("device", "cpu"));
  kernels::apply_runtime_flags(args);
  require_device(device);
  NIB_CHECK(!args.positional().empty() || !data_spec.empty(),
            "give image files or folders to classify, or --data (see nib predict --help)");
  NIB_CHECK(!show || !args.positional().empty(),
            "--show draws the image files or folders given as arguments (--data writes its own figures)");
  LoadedRun run = load_run(args, device);
  args.finish();
  const train::RunInfo& info = run.info;
  ModulePtr model = run.model;
  const auto& names = info.class_names;
  const data::InputStyle style = data::choose_preparation(prepare_option, info.input);
  const int channels = static_cast<int>(info.model.in_channels), size = static_cast<int>(info.model.image_size);
  std::vector<std::string> files = image_files(args.positional());
  if (!files.empty() || (!data_spec.empty() && is_image_folder(data_spec))) announce(style);

  if (!data_spec.empty()) {
    data::Dataset set = train::load_evaluation_data(data_spec, size, channels, style);
    std::vector<int32_t> labels = set.label_vector();  // empty for an unlabelled set (Kaggle's test.csv)
    train::Predictions predictions = train::predict(*model, set.images, labels, device);
    bool csv_path = out.size() > 4 && out.compare(out.size() - 4, 4, ".csv") == 0;
    std::string csv_file = csv_path ? out
                           : (out.empty() ? dir_arg + "/predictions-" + last_component(data_spec) : out) +
                                 "/predictions.csv";
    std::string figures = std::filesystem::path(csv_file).parent_path().string();
    if (figures.empty()) figures = ".";
    make_dirs(figures);
    std::string csv = "ImageId,Label\n";
    for (size_t i = 0; i < predictions.predicted.size(); ++i)
      csv += std::to_string(i + 1) + "," + class_name(names, predictions.predicted[i]) + "\n";
    write_file_atomic(csv_file, csv);
    train::write_prediction_figures(set, predictions, names, info.model.name + " on " + last_component(data_spec),
                                    figures);
    if (labels.empty())
      std::printf("%lld images classified (no labels to score against)\n", static_cast<long long>(set.size()));
    else
      std::printf("accuracy: %.2f%% on %lld images (loss %.4f)\n", 100.0 * predictions.accuracy(),
                  static_cast<long long>(set.size()), predictions.mean_loss);
    std::printf("written: %s (and figures in %s)\n", csv_file.c_str(), figures.c_str());
  }

  if (!files.empty()) predict_files(files, run, style, top, device, show ? grid_path : "");
  return 0;
}

int eval(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kEvalHelp, stdout);
    return 0;
  }
  std::string dir_arg = args.get("model-dir", args.get("run", ""));
  std::string data_spec = args.require("data");
  std::string out = args.get("out", "");
  std::string prepare_option = args.get("prepare", "auto");
  Device device = parse_device(args.get("device", "cpu"));
  kernels::apply_runtime_flags(args);
  require_device(device);
  LoadedRun run = load_run(args, device);
  args.finish();

  const data::InputStyle style = data::choose_preparation(prepare_option, run.info.input);
  if (is_image_folder(data_spec)) announce(style);
  data::Dataset set =
      train::load_evaluation_data(data_spec, run.info.model.image_size, run.info.model.in_channels, style);
  NIB_CHECK(set.labelled(), data_spec, " has no labels to evaluate against (nib predict classifies unlabelled data)");
  train::Predictions predictions = train::predict(*run.model, set.images, set.label_vector(), device);
  std::string dir = out.empty() ? dir_arg + "/eval-" + last_component(data_spec) : out;
  make_dirs(dir);
  train::write_prediction_figures(set, predictions, run.info.class_names,
                                  run.info.model.name + " on " + last_component(data_spec), dir);
  std::printf("%s accuracy: %.2f%% (%lld images, loss %.4f)\nfigures: %s/confusion.png, misclassified.png, correct.png\n",
              set.source.find("t10k") != std::string::npos ? "test" : "evaluation", 100.0 * predictions.accuracy(),
              static_cast<long long>(set.size()), predictions.mean_loss, dir.c_str());
  return 0;
}

}  // namespace nib::apps
