#include "apps/extractor_args.h"

namespace nib::apps {

const char* kExtractorHelp = R"(  --model M          mobilenet_v2 | vgg16 | resnet18 (with --weights), a run
                     directory of nib train (penultimate features), or pixels
  --weights FILE     pretrained weights (.safetensors or .pth), or imagenet
                     (torchvision's, downloaded on first use)
  --layer NAME       the module whose output is the feature (default: the
                     global-average-pooled last feature map: 1280-d MobileNetV2,
                     512-d ResNet-18, VGG16's conv5 pooled to 512-d)
  --global-pool      average a 4-D layer output over space
  --l2, --no-l2      scale every feature vector to unit length, or not (default:
                     on for nib index, where it ranks by cosine similarity; off
                     for nib extract)
  --image-size N     network input (default 224; a run's own size; 32 for pixels,
                     or a data set's own size)
  --channels 1|3     pixels only (default 3, or a data set's own)
  --center-crop F    keep the central F of each side first (default 1: the whole
                     image, resized straight to the input size)
  --padding MODE     torch | tf_same   (default: the weights' metadata)
  --preprocess MODE  torch | tf | caffe (default: the weights' metadata)
  --prepare MODE     a run directory's image files: auto (as its config.json
                     records: MNIST-style for MNIST-like data) | mnist | none
                     (resized only); default auto
  --batch-size N     (default 32)
  --device cpu|cuda  (default cpu)
)";

retrieval::ExtractorOptions read_extractor_options(Args& args, bool l2_default) {
  retrieval::ExtractorOptions o;
  o.model = args.require("model");
  o.weights = args.get("weights", "");
  o.layer = args.get("layer", "");
  o.padding = args.get("padding", "");
  o.preprocess = args.get("preprocess", "");
  o.image_size = args.get_int("image-size", 0);
  o.channels = args.get_int("channels", 0);
  o.center_crop = args.get_double("center-crop", 1.0);
  o.global_pool = args.flag("global-pool");
  const bool l2 = args.flag("l2"), no_l2 = args.flag("no-l2");
  NIB_CHECK(!(l2 && no_l2), "--l2 and --no-l2 contradict each other");
  o.l2_normalize = l2 || (l2_default && !no_l2);
  o.prepare = args.get("prepare", "auto");
  data::choose_preparation(o.prepare, {});  // a typo is an error even where nothing is prepared
  o.batch_size = args.get_int("batch-size", 32);
  o.device = parse_device(args.get("device", "cpu"));
  require_device(o.device);
  NIB_CHECK(o.image_size >= 0, "--image-size must be positive");
  NIB_CHECK(o.model == "pixels" || o.channels == 0, "--channels is for --model pixels (networks take 3)");
  return o;
}

}  // namespace nib::apps
