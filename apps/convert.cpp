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
// Keras (.h5 or .keras): apps/convert_keras.cpp.
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "apps/convert_keras.h"
#include "formats/safetensors.h"
#include "models/pretrained.h"
#include "models/torchvision_common.h"

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
