// What nib can download by name: data sets, ImageNet labels and pretrained
// weights, each file with its publisher's URL, size and SHA-256 (compiled in,
// so a changed or corrupted file is never used). Like Keras' get_file and
// torchvision's download=True, but the list is fixed: nib downloads nothing
// it cannot check.
//
// A file's `path` is where it lives under every data folder nib looks in
// (shared/data, $NIB_DATA), under the cache ($NIB_HOME) and under a mirror
// ($NIB_MIRROR): "mnist/train-images-idx3-ubyte.gz". See hub/fetch.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nib::hub {

enum class ItemKind { DataSet, Labels, Weights };
const char* kind_name(ItemKind kind);  // "data set", "labels", "weights"

struct KnownFile {
  std::string path;    // relative: "mnist/train-images-idx3-ubyte.gz"
  std::string url;     // where its publisher serves it
  int64_t bytes;       // the published size; 0 where none was found (the digest still checks the file)
  std::string sha256;  // the published digest, 64 lower-case hex digits

  std::string name() const;  // the file name: "train-images-idx3-ubyte.gz"
};

struct KnownItem {
  std::string name;   // what commands accept: "mnist", "vgg16"
  ItemKind kind;
  std::string title;        // "MNIST"
  std::string description;  // "handwritten digits: 60000 train + 10000 test, 28x28"
  std::vector<KnownFile> files;
  std::vector<std::string> class_names;  // data sets whose labels have names (Fashion-MNIST)

  // The folder holding the files, relative ("mnist"); every item keeps its files in one.
  std::string folder() const;
  // The total published size; 0 when a file's size was not published.
  int64_t bytes() const;
};

const std::vector<KnownItem>& known_items();

// The item called `name`, or nullptr.
const KnownItem* find_item(std::string_view name);
// The same, throwing an error that lists the known names.
const KnownItem& known_item(std::string_view name);

}  // namespace nib::hub
