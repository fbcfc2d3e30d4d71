// nib models: the models nib can build, their options and parameter counts.
#include <cstdio>

#include "apps/commands.h"
#include "models/registry.h"

namespace nib::apps {

int models(int argc, char** argv) {
  Args args(argc, argv, 2, {});
  args.finish();
  std::printf("%-14s %12s  %-22s %s\n", "model", "parameters", "counted for", "description / options");
  for (const models::ModelInfo& info : models::list_models()) {
    ModulePtr model = models::build_model(info.example);
    std::string counted = std::to_string(info.example.in_channels) + "x" + std::to_string(info.example.image_size) +
                          "x" + std::to_string(info.example.image_size) + ", " +
                          std::to_string(info.example.classes) + " classes";
    std::printf("%-14s %12lld  %-22s %s\n", info.name.c_str(), static_cast<long long>(model->parameter_count()),
                counted.c_str(), info.summary.c_str());
    std::printf("%-14s %12s  %-22s options: %s\n", "", "", "", info.options.c_str());
  }
  return 0;
}

}  // namespace nib::apps
