#include "hub/catalog.h"

#include "util/error.h"

namespace nib::hub {

namespace {

// MNIST from the mirror torchvision downloads from (LeCun's own site no
// longer serves the files reliably). Sizes and SHA-256 as listed in
// TensorFlow Datasets' url_checksums/mnist.txt; the same digests are in
// ../shared/data/MANIFEST.md.
const char* kMnist = "https://ossci-datasets.s3.amazonaws.com/mnist/";

// Fashion-MNIST from Zalando Research's own bucket (as torchvision and TFDS
// use it). Sizes and SHA-256 from TFDS' url_checksums/fashion_mnist.txt.
const char* kFashionMnist = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

// torchvision's ImageNet checkpoints (IMAGENET1K_V1 weights). torchvision
// publishes only the first 8 hex digits of each SHA-256, in the file name
// (torch.hub's check_hash compares exactly those); the full digests below
// begin with those 8 digits and are the ones several independent projects pin
// for these URLs. vgg16's size is the byte count torch.hub's progress bar
// shows when it downloads the file; resnet18's is pinned by other projects
// together with its digest. mobilenet_v2's exact size was not found published
// (torch.hub shows 13.6 MiB), so only its digest checks it.
const char* kTorchvision = "https://download.pytorch.org/models/";

// Keras' ImageNet class index (the 1000-class order of torchvision and Keras).
// Keras checks its MD5 c2c37ea517e94d9795004a39431a14cb; the SHA-256 is that
// of the file with that MD5 (../shared/data/MANIFEST.md), which other
// projects pin for this URL too.
const char* kKerasData = "https://storage.googleapis.com/download.tensorflow.org/data/";

KnownFile file(const std::string& folder, const char* base, const std::string& name, int64_t bytes,
               const char* sha256) {
  return {folder + "/" + name, base + name, bytes, sha256};
}

std::vector<KnownItem> make_catalog() {
  return {
      {"mnist",
       ItemKind::DataSet,
       "MNIST",
       "handwritten digits: 60000 train + 10000 test, 28x28",
       {file("mnist", kMnist, "train-images-idx3-ubyte.gz", 9912422,
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        file("mnist", kMnist, "train-labels-idx1-ubyte.gz", 28881,
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        file("mnist", kMnist, "t10k-images-idx3-ubyte.gz", 1648877,
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        file("mnist", kMnist, "t10k-labels-idx1-ubyte.gz", 4542,
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")},
       {}},
      {"fashion_mnist",
       ItemKind::DataSet,
       "Fashion-MNIST",
       "Zalando's clothing images: 60000 train + 10000 test, 28x28, 10 classes",
       {file("fashion_mnist", kFashionMnist, "train-images-idx3-ubyte.gz", 26421880,
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        file("fashion_mnist", kFashionMnist, "train-labels-idx1-ubyte.gz", 29515,
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        file("fashion_mnist", kFashionMnist, "t10k-images-idx3-ubyte.gz", 4422102,
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        file("fashion_mnist", kFashionMnist, "t10k-labels-idx1-ubyte.gz", 5148,
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5")},
       {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}},
      {"imagenet_classes",
       ItemKind::Labels,
       "ImageNet class index",
       "Keras' names of the 1000 ImageNet classes, for nib classify",
       {file("imagenet", kKerasData, "imagenet_class_index.json", 35363,
             "a1e7a966a1f601d39e4b43e119b3e7dd4a2ad3ea08cf69847cbaf021013767bc")},
       {}},
      {"vgg16",
       ItemKind::Weights,
       "VGG16 ImageNet weights",
       "torchvision's, for --model vgg16 --weights imagenet",
       {file("pretrained", kTorchvision, "vgg16-397923af.pth", 553433881,
             "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0")},
       {}},
      {"mobilenet_v2",
       ItemKind::Weights,
       "MobileNetV2 ImageNet weights",
       "torchvision's (about 14 MB), for --model mobilenet_v2 --weights imagenet",
       {file("pretrained", kTorchvision, "mobilenet_v2-b0353104.pth", 0,
             "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889")},
       {}},
      {"resnet18",
       ItemKind::Weights,
       "ResNet-18 ImageNet weights",
       "torchvision's, for --model resnet18 --weights imagenet",
       {file("pretrained", kTorchvision, "resnet18-f37072fd.pth", 46830571,
             "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec")},
       {}},
  };
}

}  // namespace

const char* kind_name(ItemKind kind) {
  switch (kind) {
    case ItemKind::DataSet: return "data set";
    case ItemKind::Labels: return "labels";
    case ItemKind::Weights: return "weights";
  }
  return "?";
}

std::string KnownFile::name() const { return path.substr(path.find_last_of('/') + 1); }

std::string KnownItem::folder() const { return files.front().path.substr(0, files.front().path.find_last_of('/')); }

int64_t KnownItem::bytes() const {
  int64_t total = 0;
  for (const KnownFile& f : files) {
    if (f.bytes == 0) return 0;
    total += f.bytes;
  }
  return total;
}

const std::vector<KnownItem>& known_items() {
  static const std::vector<KnownItem> catalog = make_catalog();
  return catalog;
}

const KnownItem* find_item(std::string_view name) {
  for (const KnownItem& item : known_items())
    if (item.name == name) return &item;
  return nullptr;
}

const KnownItem& known_item(std::string_view name) {
  if (const KnownItem* item = find_item(name)) return *item;
  std::string names;
  for (const KnownItem& item : known_items()) names += (names.empty() ? "" : ", ") + item.name;
  fail("nib knows nothing called '", name, "' (it can download: ", names, ")");
}

}  // namespace nib::hub
