// nib graph: the autograd graph of one training step of a model (forward and
// cross-entropy loss on one zero image), as Graphviz DOT: what backward()
// walks, op by op, with each parameter by name.
//
//   nib graph --model basic-cnn | dot -Tpng -o graph.png
//   nib graph --model mobilenet_v2 --image-size 64 --out mobilenet.dot
#include <cstdio>
#include <map>

#include "apps/commands.h"
#include "models/registry.h"
#include "ops/ops.h"
#include "tensor/graph_dot.h"
#include "util/files.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib graph --model NAME [options]

Prints the autograd graph of a training step, forward and cross-entropy loss
on one zero image, as Graphviz DOT: boxes are ops with their output shape,
ellipses the parameters they read. Render it with Graphviz, e.g.
  nib graph --model basic-cnn | dot -Tpng -o graph.png

  --model NAME         any model of `nib models`
  --image-size N       input size (default: the model's)
  --channels N         input channels (default: the model's)
  --classes N          classifier outputs (default: the model's)
  --options K=V,...    other model options (see nib models)
  --out FILE           write the DOT there instead of printing it
)";

}  // namespace

int graph(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string name = args.require("model");
  models::ModelSpec spec;
  for (const models::ModelInfo& info : models::list_models())
    if (info.name == name) spec = info.example;
  spec.name = name;
  spec.image_size = args.get_int("image-size", spec.image_size);
  spec.in_channels = args.get_int("channels", spec.in_channels);
  spec.classes = args.get_int("classes", spec.classes);
  spec.options = models::parse_options(args.get("options", ""));
  std::string out = args.get("out", "");
  args.finish();
  ModulePtr model = models::build_model(spec);

  std::map<const TensorImpl*, std::string> names;
  for (const auto& [param_name, p] : model->named_parameters()) names[p.impl()] = param_name;
  model->train();
  Tensor logits = (*model)(Tensor::zeros({1, spec.in_channels, spec.image_size, spec.image_size}));
  Tensor labels = Tensor::zeros({1}, kCPU, DType::I32);
  std::string dot = autograd::to_dot(ops::cross_entropy(logits, labels), names);
  if (out.empty()) {
    std::fputs(dot.c_str(), stdout);
  } else {
    write_file_atomic(out, dot);
    std::printf("wrote %s (render: dot -Tpng %s -o graph.png)\n", out.c_str(), out.c_str());
  }
  return 0;
}

}  // namespace nib::apps
