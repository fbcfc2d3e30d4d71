// nib classify: ImageNet top-5 with a pretrained network.
//
//   nib classify --model vgg16 --weights imagenet cat.jpg
//   nib classify --model mobilenet_v2 --weights mobilenet_v2.safetensors cat.jpg
//   nib classify --model mobilenet_v2 --weights W --accuracy ../shared/data/photos/imagenet-sample-groups
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "apps/commands.h"
#include "apps/common.h"
#include "hub/fetch.h"
#include "kernels/runtime_flags.h"
#include "models/pretrained.h"
#include "ops/ops.h"
#include "tensor/autograd.h"
#include "util/files.h"
#include "util/json.h"
#include "util/progress.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib classify --model ARCH --weights FILE [options] IMAGE|DIR...

Prints the top classes of each image (ImageNet labels by default).

  --model ARCH         mobilenet_v2 | vgg16 | resnet18
  --weights FILE       .safetensors (nib convert makes one from a .pth) or .pth, or
                       imagenet: torchvision's ImageNet weights, downloaded on first use
  --padding MODE       torch | tf_same (default: the file's metadata, else torch)
  --preprocess MODE    torch | tf | caffe (default: the file's metadata, else torch)
  --center-crop F      keep the central F of each side before resizing (default 0.875)
  --image-size N       network input size (default 224)
  --top K              classes per image (default 5)
  --labels FILE        class index JSON {"0": ["n01440764", "tench"], ...}
                       (default: Keras' imagenet_class_index.json from the data dir or
                       the cache, downloaded on first use; see nib data)
  --json               one JSON object per image: {"path", "top5": [{"index", "label", "prob"}]}
  --accuracy           score top-1/top-5, taking each file's class from its
                       name's leading WordNet id (n01440764_tench.JPEG)
  --batch-size N       (default 16)
  --device cpu|cuda, --kernels SPEC, --threads N
)";

struct ClassIndex {
  std::vector<std::string> wnids, labels;
};

ClassIndex load_class_index(const std::string& path) {
  json::Value v = json::parse(read_file(path), path);
  ClassIndex index;
  size_t n = v.size();
  index.wnids.resize(n);
  index.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const json::Value* entry = v.find(std::to_string(i));
    NIB_CHECK(entry && entry->size() == 2, path, ": entry \"", i, "\" is missing or not [wnid, label]");
    index.wnids[i] = entry->at(size_t{0}).as_string();
    index.labels[i] = entry->at(size_t{1}).as_string();
  }
  return index;
}

std::string json_escape(const std::string& s) { return json::dump(json::Value(s), -1); }

}  // namespace

int classify(int argc, char** argv) {
  Args args(argc, argv, 2, {"json", "accuracy", "help"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string arch = args.require("model");
  std::string weights = args.require("weights");
  models::PretrainedOptions options;
  options.padding = args.get("padding", "");
  options.preprocess = args.get("preprocess", "");
  options.image_size = args.get_int("image-size", 224);
  double crop = args.get_double("center-crop", 0.875);
  int64_t top = args.get_int("top", 5);
  int64_t batch_size = args.get_int("batch-size", 16);
  std::string labels_path = args.get("labels", "");
  bool as_json = args.flag("json"), accuracy = args.flag("accuracy");
  Device device = parse_device(args.get("device", "cpu"));
  kernels::apply_runtime_flags(args);
  args.finish();
  require_device(device);
  NIB_CHECK(!args.positional().empty(), "give images or directories to classify (see nib classify --help)");

  if (labels_path.empty()) labels_path = hub::ensure_file(hub::known_item("imagenet_classes").files.front());
  ClassIndex index = load_class_index(labels_path);
  models::PretrainedModel net = models::load_pretrained(arch, weights, options);
  NIB_CHECK(!net.spec.options.count("features_only"), weights,
            ": these weights have no classifier (saved without their top), so they cannot classify; "
            "nib finetune and nib index use them");
  NIB_CHECK(static_cast<int64_t>(index.labels.size()) == net.spec.classes, labels_path, " has ", index.labels.size(),
            " classes but the model predicts ", net.spec.classes);
  net.model->to(device);
  std::map<std::string, int64_t> class_of_wnid;
  for (size_t i = 0; i < index.wnids.size(); ++i) class_of_wnid[index.wnids[i]] = static_cast<int64_t>(i);

  std::vector<std::string> files = image_files(args.positional());
  if (!as_json)
    std::fprintf(stderr, "%s, padding %s, preprocess %s, %zu images\n", arch.c_str(),
                 net.spec.options["padding"].c_str(), models::preprocess_name(net.preprocess), files.size());
  int64_t scored = 0, top1 = 0, top5 = 0;
  NoGrad no_grad;
  for (size_t begin = 0; begin < files.size(); begin += batch_size) {
    size_t end = std::min(files.size(), begin + static_cast<size_t>(batch_size));
    std::vector<Tensor> inputs;
    for (size_t i = begin; i < end; ++i) inputs.push_back(models::load_network_input(files[i], options.image_size, crop));
    Tensor x = models::preprocess(ops::concat(inputs, 0).to(device), net.preprocess);
    std::vector<float> probs = ops::softmax((*net.model)(x)).to_vector();
    int64_t classes = net.spec.classes;
    for (size_t i = begin; i < end; ++i) {
      const float* p = probs.data() + (i - begin) * classes;
      std::vector<int64_t> order(classes);
      for (int64_t c = 0; c < classes; ++c) order[c] = c;
      int64_t k = std::min(top, classes);
      std::partial_sort(order.begin(), order.begin() + std::max<int64_t>(k, 5), order.end(),
                        [&](int64_t a, int64_t b) { return p[a] > p[b]; });
      if (as_json) {
        std::printf("{\"path\":%s,\"top%lld\":[", json_escape(files[i]).c_str(), static_cast<long long>(k));
        for (int64_t r = 0; r < k; ++r)
          std::printf("%s{\"index\":%lld,\"label\":%s,\"prob\":%.6f}", r ? "," : "",
                      static_cast<long long>(order[r]), json_escape(index.labels[order[r]]).c_str(), p[order[r]]);
        std::printf("]}\n");
      } else {
        std::printf("%s\n", files[i].c_str());
        for (int64_t r = 0; r < k; ++r)
          std::printf("  %5.1f%%  %s (%lld)\n", 100.0 * p[order[r]], index.labels[order[r]].c_str(),
                      static_cast<long long>(order[r]));
      }
      if (accuracy) {
        std::string name = std::filesystem::path(files[i]).filename().string();
        auto it = class_of_wnid.find(name.substr(0, name.find('_')));
        NIB_CHECK(it != class_of_wnid.end(), files[i], ": --accuracy needs file names starting with a WordNet id");
        ++scored;
        top1 += order[0] == it->second;
        top5 += std::find(order.begin(), order.begin() + 5, it->second) != order.begin() + 5;
      }
    }
  }
  if (accuracy && scored > 0)
    std::fprintf(as_json ? stderr : stdout, "top-1 %.1f%%, top-5 %.1f%% on %lld images\n", 100.0 * top1 / scored,
                 100.0 * top5 / scored, static_cast<long long>(scored));
  return 0;
}

}  // namespace nib::apps
