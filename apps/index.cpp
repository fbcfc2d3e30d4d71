// nib index: build (or update) a searchable index of a folder of images.
//
//   nib index --model mobilenet_v2 --weights W --images photos/ --out photos.nibindex   (L2-normalised)
//   nib index --model runs/basic-cnn-mnist --images mnist:train --out mnist.nibindex
//   nib index ... --update      re-extract only new or changed files
#include <cstdio>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/extractor_args.h"
#include "kernels/runtime_flags.h"
#include "retrieval/indexing.h"
#include "util/files.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib index --model M [--weights FILE] --images DIR --out FILE.nibindex [options]

Extracts a feature vector for every image under DIR (.jpg .jpeg .png .bmp in
any case, recursively) and saves them as an index that nib retrieve searches
and nib eval-retrieval scores. Images in class sub-folders (DIR/cat/1.jpg)
are labelled with their folder. DIR may also be DATA:SPLIT (mnist:train).

  --images DIR       the images to index
  --out FILE         the index (safetensors: features, labels, and metadata
                     with the paths and the extractor's settings)
  --update           keep the rows of FILE whose images are unchanged (same size
                     and modification time), extract new and changed images, drop
                     removed ones; refused when the extractor options differ.
                     FILE is replaced atomically, so a failure leaves it intact.
)";

}  // namespace

int index(int argc, char** argv) {
  std::set<std::string> flags{"help", "update"};
  flags.insert(std::begin(kExtractorFlags), std::end(kExtractorFlags));
  Args args(argc, argv, 2, flags);
  if (args.flag("help")) {
    std::printf("%s%s  --kernels SPEC, --threads N\n", kHelp, kExtractorHelp);
    return 0;
  }
  // Retrieval ranks by distance, so features are L2-normalised unless --no-l2
  // (bench/results/retrieval.md: mAP 0.583 with, 0.464 without on the photos).
  const bool l2_given = args.has("l2") || args.has("no-l2");
  retrieval::ExtractorOptions options = read_extractor_options(args, /*l2_default=*/true);
  std::string images = args.require("images");
  std::string out = args.require("out");
  bool update = args.flag("update");
  kernels::apply_runtime_flags(args);
  args.finish();

  retrieval::ImageSource source = retrieval::open_image_source(images);
  retrieval::ImageIndex previous;
  bool have_previous = update && file_exists(out);
  if (have_previous) previous = retrieval::ImageIndex::load(out);
  // --update without --l2/--no-l2 keeps the index's own choice (one built before L2 was the default too).
  if (have_previous && !l2_given) options.l2_normalize = previous.extractor["l2_normalize"] == "true";
  retrieval::FeatureExtractor extractor(retrieval::fit_to_source(options, source));
  if (update && !have_previous) std::printf("%s does not exist yet: building it\n", out.c_str());
  std::printf("%lld images in %s%s\nextractor: %s\n", static_cast<long long>(source.size()), source.root.c_str(),
              source.labelled() ? (", " + std::to_string(source.class_names.size()) + " classes").c_str() : "",
              retrieval::describe_extractor(extractor.describe()).c_str());

  retrieval::IndexUpdate counts;
  retrieval::ImageIndex index =
      retrieval::build_index(source, extractor, have_previous ? &previous : nullptr, &counts);
  index.save(out);
  if (have_previous)
    std::printf("updated: %lld unchanged, %lld extracted, %lld removed\n", static_cast<long long>(counts.reused),
                static_cast<long long>(counts.extracted), static_cast<long long>(counts.removed));
  std::printf("wrote %s: %lld images, %lld-d features\n", out.c_str(), static_cast<long long>(index.size()),
              static_cast<long long>(index.features.size(1)));
  return 0;
}

}  // namespace nib::apps
