// nib debug-forward (not listed by `nib --help`): one forward pass of a
// pretrained architecture on a tensor from a file, writing the logits and the
// outputs of named modules, so a script can compare nib with another
// framework layer by layer (tools/fixtures/torchvision_models.py --full).
//
//   nib debug-forward --model resnet18 --weights r.safetensors --input in.safetensors
//                     --out out.safetensors --layers layer1,layer4
//
// The input is the tensor called "input" [N, 3, H, W], used as it is (no
// preprocessing); the model runs in eval mode.
#include <cstdio>
#include <sstream>

#include "apps/commands.h"
#include "formats/safetensors.h"
#include "models/pretrained.h"
#include "tensor/autograd.h"

namespace nib::apps {

int debug_forward(int argc, char** argv) {
  Args args(argc, argv, 2, {});
  std::string arch = args.require("model");
  models::PretrainedOptions options;
  std::string weights = args.require("weights");
  options.padding = args.get("padding", "");
  std::string input_path = args.require("input"), out_path = args.require("out");
  std::string layers = args.get("layers", "");
  args.finish();

  models::PretrainedModel net = models::load_pretrained(arch, weights, options);
  Tensor x;
  for (const auto& [name, t] : load_safetensors(input_path).tensors)
    if (name == "input") x = t;
  NIB_CHECK(x.defined(), input_path, ": has no tensor called \"input\"");

  NamedTensors outputs;
  std::stringstream names(layers);
  std::string name;
  while (std::getline(names, name, ',')) {
    Module* m = net.model->find(name);
    NIB_CHECK(m, arch, " has no module '", name, "' (nib layers --model ", arch, " lists them)");
    outputs.emplace_back(name, Tensor());
    size_t slot = outputs.size() - 1;
    m->set_output_hook([&outputs, slot](const Tensor& y) { outputs[slot].second = y; });
  }
  NoGrad no_grad;
  Tensor logits = (*net.model)(x);
  outputs.emplace_back("logits", logits);
  for (const auto& [layer, y] : outputs) NIB_CHECK(y.defined(), arch, ": module '", layer, "' was never called");
  save_safetensors(out_path, outputs);
  std::printf("%s: logits %s\n", out_path.c_str(), logits.shape().str().c_str());
  return 0;
}

}  // namespace nib::apps
