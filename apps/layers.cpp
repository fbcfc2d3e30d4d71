// nib layers: every named module of a model, with what it is, the shape it
// outputs for one image, and its parameters — the names to give
// `nib extract --layer`, to freeze, or to look up in a checkpoint.
//
//   nib layers --model resnet18
//   nib layers --model mobilenet_v2 --image-size 160 --padding tf_same
#include <algorithm>
#include <cstdio>

#include "apps/commands.h"
#include "models/registry.h"
#include "tensor/autograd.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib layers --model NAME [options]

Lists every named module of a model with its output shape for one image of
the given size (a zero image run through the model in eval mode) and its own
parameter count (a container's count is its children's, so it shows -).

  --model NAME         any model of `nib models`
  --image-size N       input size (default: the model's, 224 for the ImageNet architectures)
  --channels N         input channels (default: the model's)
  --classes N          classifier outputs (default: the model's)
  --padding MODE       torch | tf_same (vgg16, mobilenet_v2, resnet18)
  --options K=V,...    other model options (see nib models), e.g. width=0.5,features_only=true
)";

struct Row {
  std::string name, description, shape;
  int64_t own_parameters = 0;
};

}  // namespace

int layers(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string name = args.require("model");
  models::ModelSpec spec;
  for (const models::ModelInfo& info : models::list_models())
    if (info.name == name) spec = info.example;
  spec.name = name;  // an unknown name is reported by build_model, with the valid ones
  spec.image_size = args.get_int("image-size", spec.image_size);
  spec.in_channels = args.get_int("channels", spec.in_channels);
  spec.classes = args.get_int("classes", spec.classes);
  spec.options = models::parse_options(args.get("options", ""));
  if (args.has("padding")) spec.options["padding"] = args.get("padding", "");
  args.finish();
  ModulePtr model = models::build_model(spec);

  // Hooks record each module's output shape (the last call's, for modules used twice).
  std::vector<Row> rows;
  auto modules = model->named_modules();
  rows.resize(modules.size());
  for (size_t i = 0; i < modules.size(); ++i) {
    Module* m = modules[i].second;
    rows[i].name = modules[i].first.empty() ? "(model)" : modules[i].first;
    rows[i].description = m->describe();
    rows[i].own_parameters = m->parameter_count();
    for (const auto& child : m->children()) rows[i].own_parameters -= child.second->parameter_count();
    m->set_output_hook([&rows, i](const Tensor& y) { rows[i].shape = y.shape().str(); });
  }
  {
    NoGrad no_grad;
    model->eval();
    (*model)(Tensor::zeros({1, spec.in_channels, spec.image_size, spec.image_size}));
  }
  for (const auto& entry : modules) entry.second->set_output_hook(nullptr);

  size_t name_width = 4, description_width = 6;
  for (const Row& r : rows) {
    name_width = std::max(name_width, r.name.size());
    description_width = std::max(description_width, r.description.size());
  }
  std::printf("%s (%s)\n\n", name.c_str(), models::describe_options(spec).c_str());
  std::printf("%-*s  %-*s  %-18s %12s\n", static_cast<int>(name_width), "name", static_cast<int>(description_width),
              "module", "output", "parameters");
  for (const Row& r : rows) {
    std::string params = r.own_parameters ? std::to_string(r.own_parameters) : "-";
    std::printf("%-*s  %-*s  %-18s %12s\n", static_cast<int>(name_width), r.name.c_str(),
                static_cast<int>(description_width), r.description.c_str(),
                r.shape.empty() ? "(not called)" : r.shape.c_str(), params.c_str());
  }
  std::printf("\n%lld parameters in %zu modules\n", static_cast<long long>(model->parameter_count()),
              rows.size() - 1);
  return 0;
}

}  // namespace nib::apps
