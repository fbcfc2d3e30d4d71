// nib extract: feature vectors of a folder of images, saved for other tools.
//
//   nib extract --model mobilenet_v2 --weights W --images photos/ --out feats.safetensors --l2
//   nib extract --model mobilenet_v2 --weights W --list-layers
//
// The file holds `features` [N, ...] float32 (the layer's output as it is,
// or pooled) and, in its metadata, `paths`: the N image files in row order
// (a JSON list), plus extractor.* saying how the features were made.
#include <cstdio>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/extractor_args.h"
#include "formats/safetensors.h"
#include "kernels/runtime_flags.h"
#include "retrieval/indexing.h"
#include "util/json.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib extract --model M [--weights FILE] --images DIR --out FILE [options]

Runs every image under DIR (.jpg .jpeg .png .bmp, recursively; or DATA:SPLIT
such as mnist:test) through a network and saves one layer's output per image.

  --images DIR       the images
  --out FILE         the .safetensors file to write: features [N, ...] float32,
                     metadata paths (JSON list) and extractor.*
  --list-layers      print the model's layers with their output shapes and exit
)";

}  // namespace

int extract(int argc, char** argv) {
  std::set<std::string> flags{"help", "list-layers"};
  flags.insert(std::begin(kExtractorFlags), std::end(kExtractorFlags));
  Args args(argc, argv, 2, flags);
  if (args.flag("help")) {
    std::printf("%s%s  --kernels SPEC, --threads N\n", kHelp, kExtractorHelp);
    return 0;
  }
  bool list_layers = args.flag("list-layers");
  retrieval::ExtractorOptions options = read_extractor_options(args);
  std::string images = list_layers ? "" : args.require("images");
  std::string out = list_layers ? "" : args.require("out");
  kernels::apply_runtime_flags(args);
  args.finish();

  if (list_layers) {
    retrieval::FeatureExtractor extractor(options);
    for (const std::string& line : extractor.layers()) std::printf("%s\n", line.c_str());
    return 0;
  }
  retrieval::ImageSource source = retrieval::open_image_source(images);
  options = retrieval::fit_to_source(options, source);
  options.keep_shape = true;
  retrieval::FeatureExtractor extractor(options);
  std::printf("%lld images from %s\nextractor: %s\n", static_cast<long long>(source.size()), source.root.c_str(),
              retrieval::describe_extractor(extractor.describe()).c_str());
  Tensor features = retrieval::extract_features(extractor, source);

  json::Value paths = json::Value::array();
  for (int64_t i = 0; i < source.size(); ++i) paths.push_back(source.full_path(i));
  std::map<std::string, std::string> metadata{{"format", "nib-features-1"}, {"paths", json::dump(paths, -1)}};
  for (const auto& [key, value] : extractor.describe()) metadata["extractor." + key] = value;
  save_safetensors(out, {{"features", features}}, metadata);
  std::printf("wrote %s: features %s\n", out.c_str(), features.shape().str().c_str());
  return 0;
}

}  // namespace nib::apps
