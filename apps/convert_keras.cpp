// nib convert for Keras files (apps/convert.cpp sends them here): a Keras
// model as a run directory, or a Keras VGG16 / MobileNetV2 as weights for
// nib's own architecture. The conversion itself is models/keras/converter.h;
// this file prints what it did and writes the result.
#include "apps/convert_keras.h"

#include <cctype>
#include <cstdio>

#include "apps/common.h"
#include "formats/safetensors.h"
#include "layers/state_dict.h"
#include "models/keras/converter.h"
#include "train/run_dir.h"
#include "util/files.h"

namespace nib::apps {

namespace {

// What a preprocessing mode does to pixels, in Keras users' terms.
const char* scaling_in_words(const std::string& mode) {
  if (mode == "none") return "pixels / 255";
  if (mode == "raw") return "pixels 0..255, the model scales them";
  if (mode == "tf") return "pixels / 127.5 - 1";
  if (mode == "caffe") return "BGR, pixels - ImageNet mean";
  if (mode == "torch") return "(pixels / 255 - ImageNet mean) / std";
  return "?";
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

}  // namespace

bool is_keras_file(const std::string& path) {
  std::string lower = path;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower.ends_with(".h5") || lower.ends_with(".hdf5") || lower.ends_with(".keras");
}

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
  std::printf("use it:  nib predict --model-dir %s IMAGE..., nib eval --model-dir %s --data DATA\n", out.c_str(),
              out.c_str());
  return 0;
}

}  // namespace nib::apps
