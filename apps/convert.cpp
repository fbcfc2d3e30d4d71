// nib convert: bring a model trained elsewhere into nib.
//
//   nib convert vgg16-397923af.pth vgg16.safetensors --arch vgg16       PyTorch checkpoint -> safetensors
//   nib convert mnist_cnn.h5 runs/keras-cnn                              Keras model -> run directory
//   nib convert vgg16_keras.h5 vgg16.safetensors                         Keras VGG16/MobileNetV2 -> nib's own
//
// PyTorch: the tensors are written unchanged, in the checkpoint's order; the
// conventions given (arch, padding, preprocess) go into the file's metadata,
// where nib classify/extract find them. With --arch the tensors are first
// loaded into that architecture, strictly, so a file that would not load is
// never written. The write is atomic: OUT is either the old file or the new one.
//
// Keras (.h5 or .keras): formats/keras/converter.h. A run directory gets the
// model as a keras_graph (config.json keeps its layers, model.safetensors
// its weights in nib's layouts), so nib predict, eval, finetune, extract and
// index use it like a run of nib train.
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "apps/common.h"
#include "formats/keras/converter.h"
#include "layers/state_dict.h"
#include "models/pretrained.h"
#include "models/torchvision_common.h"
#include "tensor/safetensors.h"
#include "train/run_dir.h"
#include "util/files.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib convert IN.pth OUT.safetensors [options]
       nib convert IN.h5|IN.keras RUN_DIR [options]
       nib convert IN.h5|IN.keras OUT.safetensors        (Keras VGG16 and MobileNetV2)

A PyTorch checkpoint (a state dict saved with torch.save, or a training
checkpoint holding one under "state_dict"/"model") becomes safetensors:

  --arch NAME          vgg16 | mobilenet_v2 | resnet18: check that the tensors load
                       into this architecture (strict names and shapes) and record it
  --padding MODE       torch | tf_same: record the padding the weights were trained with
  --preprocess MODE    torch | tf | caffe: record the input scaling they expect

A Keras model (Keras 2 or 3 .h5, or Keras 3 .keras; Sequential or Functional)
becomes a run directory that nib predict, eval, finetune, extract and index
use; its summary is printed, as model.summary() prints it. A Keras VGG16 or
MobileNetV2 (keras.applications, with or without its top) can also become
weights for nib's own vgg16 / mobilenet_v2 (OUT.safetensors), for nib classify,
nib finetune --weights and nib index.

  --preprocess MODE    how the Keras model's inputs were scaled: none (pixels / 255,
                       the default, as Keras MNIST examples do), raw (pixels 0..255;
                       the default when the model starts with Rescaling or
                       Normalization), tf (pixels / 127.5 - 1), caffe, torch
                       (VGG16 and MobileNetV2 default to caffe and tf)
  --image-size N       for a model whose input size Keras left open (None)
  --class-names FILE   one class name per line (default: 0, 1, 2, ...)
)";

// What a preprocessing mode does to pixels, in Keras users' terms.
const char* scaling_in_words(const std::string& mode) {
  if (mode == "none") return "pixels / 255";
  if (mode == "raw") return "pixels 0..255, the model scales them";
  if (mode == "tf") return "pixels / 127.5 - 1";
  if (mode == "caffe") return "BGR, pixels - ImageNet mean";
  if (mode == "torch") return "(pixels / 255 - ImageNet mean) / std";
  return "?";
}

bool is_keras_file(const std::string& path) {
  std::string lower = path;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower.size() > 3 && (lower.ends_with(".h5") || lower.ends_with(".hdf5") || lower.ends_with(".keras"));
}

std::vector<std::string> read_class_names(const std::string& path, int64_t classes) {
  std::vector<std::string> names;
  if (path.empty()) {
    for (int64_t i = 0; i < classes; ++i) names.push_back(std::to_string(i));
    return names;
  }
  std::string text = read_file(path), line;
  for (char ch : text + "\n") {
    if (ch != '\n') {
      if (ch != '\r') line += ch;
      continue;
    }
    if (!line.empty()) names.push_back(line);
    line.clear();
  }
  NIB_CHECK(static_cast<int64_t>(names.size()) == classes, path, ": ", names.size(), " class names for a model with ",
            classes, " classes");
  return names;
}

// A Keras model as a run directory, or (VGG16, MobileNetV2) as weights for nib's own architecture.
int convert_keras(const std::string& in, const std::string& out, Args& args, int argc, char** argv) {
  formats::keras::ConvertOptions options;
  options.preprocess = args.get("preprocess", "");
  options.image_size = args.get_int("image-size", 0);
  std::string class_names = args.get("class-names", "");
  for (const char* torch_only : {"arch", "padding"})
    NIB_CHECK(!args.has(torch_only), "--", torch_only, " is for PyTorch checkpoints; a Keras file says what it is");
  args.finish();
  NIB_CHECK(options.image_size >= 0, "--image-size must be positive");

  formats::keras::ConvertedModel converted = formats::keras::convert_keras_model(in, options);
  std::fputs(formats::keras::summary(converted).c_str(), stdout);
  const std::string& scaling = converted.spec.options.at("preprocess");
  std::printf("Input: %lldx%lldx%lld images, preprocess %s (%s)\n", static_cast<long long>(converted.spec.image_size),
              static_cast<long long>(converted.spec.image_size), static_cast<long long>(converted.spec.in_channels),
              scaling.c_str(), scaling_in_words(scaling));
  for (const std::string& note : converted.notes) std::printf("note: %s\n", note.c_str());

  if (out.ends_with(".safetensors")) {
    std::map<std::string, std::string> metadata;
    NamedTensors tensors = formats::keras::application_weights(converted, metadata);
    save_safetensors(out, tensors, metadata);
    std::string width = metadata.count("width") ? ", width " + metadata.at("width") : "";
    std::printf("%s: nib's %s (padding %s, preprocess %s%s), %zu tensors; checked to give the Keras model's outputs\n",
                out.c_str(), metadata.at("arch").c_str(), metadata.at("padding").c_str(),
                metadata.at("preprocess").c_str(), width.c_str(), tensors.size());
    return 0;
  }

  NIB_CHECK(converted.spec.classes > 0, in, ": the model's output is ", converted.output_shape,
            ", not class scores (None, classes): only classifiers become run directories",
            converted.application ? " (this is a Keras " + converted.application->arch +
                                        ": OUT.safetensors gives weights for nib's own)"
                                  : "");
  NIB_CHECK(!file_exists(out + "/config.json"), out, ": already a run directory (config.json); choose another");
  NIB_CHECK(!file_exists(out), out, ": a file, not a directory (a run directory, or OUT.safetensors for weights)");
  train::RunInfo info;
  info.model = converted.spec;
  info.class_names = read_class_names(class_names, converted.spec.classes);
  info.command = command_line(argc, argv);
  info.pretrained = in;
  make_dirs(out);
  // Weights first: a directory with a config.json always has its weights.
  save_module(*converted.model, out + "/model.safetensors",
              {{"model", "keras_graph"}, {"source", converted.spec.options.at("source")}});
  train::save_run_info(out, info);
  std::printf("written: %s (config.json, model.safetensors): %lld classes\n", out.c_str(),
              static_cast<long long>(converted.spec.classes));
  std::printf("next:    nib eval --model-dir %s --data mnist\n", out.c_str());
  return 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int convert(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  NIB_CHECK(args.positional().size() == 2, "expected IN and OUT (see nib convert --help)");
  const std::string in = args.positional()[0];
  const std::string out = args.positional()[1];
  NIB_CHECK(std::filesystem::absolute(in) != std::filesystem::absolute(out), in,
            ": input and output are the same file");
  if (is_keras_file(in)) return convert_keras(in, out, args, argc, argv);

  std::string arch = args.get("arch", "");
  std::string padding = args.get("padding", "");
  std::string preprocess = args.get("preprocess", "");
  args.finish();
  NIB_CHECK(ends_with(out, ".safetensors"), out, ": the output must be a .safetensors file");

  std::map<std::string, std::string> metadata;
  NamedTensors tensors = models::read_weights(in, &metadata);
  NIB_CHECK(!tensors.empty(), in, ": holds no tensors");
  metadata["format"] = "pt";  // PyTorch's layout (NCHW, OIHW), as the safetensors convention says
  metadata["source"] = std::filesystem::path(in).filename().string();
  // Canonical spellings, and errors for unknown ones before any work is done.
  if (!padding.empty()) metadata["padding"] = models::padding_style_name(models::parse_padding_style(padding));
  if (!preprocess.empty()) metadata["preprocess"] = models::preprocess_name(models::parse_preprocess(preprocess));

  std::string checked;
  if (!arch.empty()) {
    metadata.erase("arch");  // --arch replaces whatever the file said
    models::PretrainedModel net;
    try {
      net = models::build_pretrained(arch, tensors, metadata, {});
    } catch (const Error& e) {
      fail(in, ": ", e.what());
    }
    metadata["arch"] = arch;
    checked = str(", loads into ", arch, " (", net.spec.classes, " classes, ", net.model->parameter_count(),
                  " parameters)");
  }

  int64_t values = 0, bytes = 0;
  for (const auto& [name, t] : tensors) {
    values += t.numel();
    bytes += t.bytes();
  }
  save_safetensors(out, tensors, metadata);
  std::printf("%s: %zu tensors, %lld values (%.1f MB)%s\n", out.c_str(), tensors.size(),
              static_cast<long long>(values), bytes / 1e6, checked.c_str());
  return 0;
}

}  // namespace nib::apps
