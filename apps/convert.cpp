// nib convert: a PyTorch checkpoint (.pth) as a safetensors file that nib
// (and Hugging Face's tools) load without unpickling anything.
//
//   nib convert vgg16-397923af.pth vgg16.safetensors --arch vgg16
//   nib convert mobilenet.pth mobilenet.safetensors --arch mobilenet_v2 --padding tf_same --preprocess tf
//
// The tensors are written unchanged, in the checkpoint's order; the
// conventions given (arch, padding, preprocess) go into the file's metadata,
// where nib classify/extract find them. With --arch the tensors are first
// loaded into that architecture, strictly, so a file that would not load is
// never written. The write is atomic: OUT is either the old file or the new one.
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"
#include "models/pretrained.h"
#include "models/torchvision_common.h"
#include "tensor/safetensors.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib convert IN OUT.safetensors [options]

Converts a PyTorch checkpoint (a state dict saved with torch.save, or a
training checkpoint holding one under "state_dict"/"model") to safetensors.

  --arch NAME          vgg16 | mobilenet_v2 | resnet18: check that the tensors load
                       into this architecture (strict names and shapes) and record it
  --padding MODE       torch | tf_same: record the padding the weights were trained with
  --preprocess MODE    torch | tf | caffe: record the input scaling they expect
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
  std::string arch = args.get("arch", "");
  std::string padding = args.get("padding", "");
  std::string preprocess = args.get("preprocess", "");
  args.finish();
  NIB_CHECK(args.positional().size() == 2, "expected IN and OUT.safetensors (see nib convert --help)");
  const std::string& in = args.positional()[0];
  const std::string& out = args.positional()[1];
  NIB_CHECK(ends_with(out, ".safetensors"), out, ": the output must be a .safetensors file");
  NIB_CHECK(std::filesystem::absolute(in) != std::filesystem::absolute(out), in, ": input and output are the same file");

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
