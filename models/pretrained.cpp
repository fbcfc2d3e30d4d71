#include "models/pretrained.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "formats/safetensors.h"
#include "formats/torch_checkpoint.h"
#include "layers/state_dict.h"
#include "models/imagenet_weights.h"
#include "tensor/image_tensor.h"
#include "util/files.h"
#include "util/image.h"
#include "util/image_resample.h"

namespace nib::models {

namespace {

// The classifier's output layer per architecture: its weight's first
// dimension tells how many classes the checkpoint was trained for.
const char* head_weight(const std::string& arch) {
  if (arch == "vgg16") return "classifier.6.weight";
  if (arch == "mobilenet_v2") return "classifier.1.weight";
  if (arch == "resnet18") return "fc.weight";
  return "";
}

}  // namespace

WeightsFormat sniff_weights_format(const std::string& path) {
  NIB_CHECK(file_exists(path), "cannot open ", path, ": no such file");
  std::ifstream in(path, std::ios::binary);
  NIB_CHECK(in, "cannot open ", path, ": ", std::strerror(errno));
  unsigned char head[9] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  std::streamsize got = in.gcount();
  // torch.save (PyTorch >= 1.6) writes a zip archive: a local file header "PK\3\4".
  if (got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return WeightsFormat::TorchZip;
  // safetensors: an 8-byte header length, then the JSON header's '{'.
  if (got == 9 && head[8] == '{') return WeightsFormat::SafeTensors;
  // A bare pickle (protocol 2+ starts with 0x80): torch.save before 1.6, or _use_new_zipfile_serialization=False.
  NIB_CHECK(!(got >= 1 && head[0] == 0x80), path,
            ": a legacy PyTorch checkpoint (a bare pickle, not a zip archive); nib reads the zip format that "
            "torch.save writes since PyTorch 1.6: load it and torch.save it again");
  fail(path, ": not a PyTorch checkpoint (zip) or safetensors file");
}

NamedTensors read_weights(const std::string& path, std::map<std::string, std::string>* metadata) {
  if (sniff_weights_format(path) == WeightsFormat::TorchZip) return load_torch_checkpoint(path);
  SafeTensorsFile file = load_safetensors(path);
  if (metadata) *metadata = file.metadata;
  return file.tensors;
}

PretrainedModel load_pretrained(const std::string& arch, const std::string& weights_path,
                                const PretrainedOptions& options) {
  std::string path = resolve_weights(arch, weights_path);
  std::map<std::string, std::string> metadata;
  NamedTensors weights = read_weights(path, &metadata);
  try {
    return build_pretrained(arch, weights, metadata, options);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

PretrainedModel build_pretrained(const std::string& arch, const NamedTensors& weights,
                                 const std::map<std::string, std::string>& metadata,
                                 const PretrainedOptions& options) {
  PretrainedModel out;
  out.metadata = metadata;
  auto meta = [&](const char* key) {
    auto it = out.metadata.find(key);
    return it == out.metadata.end() ? std::string() : it->second;
  };
  std::string file_arch = meta("arch");
  NIB_CHECK(file_arch.empty() || file_arch == arch, "these weights are for ", file_arch, ", not ", arch);

  out.spec.name = arch;
  out.spec.in_channels = 3;
  out.spec.image_size = options.image_size;
  out.spec.classes = 1000;
  for (const auto& [name, tensor] : weights)
    if (name == head_weight(arch) && tensor.dim() == 2) out.spec.classes = tensor.size(0);
  std::string padding = !options.padding.empty() ? options.padding : !meta("padding").empty() ? meta("padding") : "torch";
  out.spec.options["padding"] = padding;
  // A base saved without its classifier (a Keras model with include_top=False) says so in its metadata.
  const bool features_only = options.features_only || meta("features_only") == "true";
  if (features_only) out.spec.options["features_only"] = "true";
  if (!meta("width").empty()) out.spec.options["width"] = meta("width");  // reduced-width test fixtures
  out.preprocess = parse_preprocess(!options.preprocess.empty() ? options.preprocess
                                    : !meta("preprocess").empty() ? meta("preprocess")
                                                                  : "torch");
  out.model = build_model(out.spec);
  // A features-only model has no classifier: the checkpoint's head is expected to be left over.
  NamedTensors used;
  for (const auto& entry : weights) {
    bool head = entry.first.rfind("classifier.", 0) == 0 || entry.first.rfind("fc.", 0) == 0;
    if (!(features_only && head)) used.push_back(entry);
  }
  // Converted checkpoints without BatchNorm step counters load too (load_state_dict keeps the model's own, 0).
  try {
    load_state_dict(*out.model, used, /*strict=*/true);
  } catch (const Error& e) {
    fail("does not fit ", arch, ": ", e.what());
  }
  out.model->eval();
  return out;
}

Tensor load_network_input(const std::string& path, int64_t size, double crop) {
  Image image = load_image(path, 3);
  NIB_CHECK(image.width >= 8 && image.height >= 8, path, ": image is too small (", image.width, "x", image.height,
            ")");
  if (crop < 1.0) image = center_crop_fraction(image, crop);
  image = resize_pil_bilinear(image, static_cast<int>(size), static_cast<int>(size));
  Tensor chw = image_to_tensor(image);
  return chw.reshape({1, 3, size, size});
}

}  // namespace nib::models
