#include "datasets/mnist.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "datasets/gz_reader.h"

namespace nib::data {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
// Four times EMNIST (0.55 GB of pixels), the largest IDX set; a bigger header
// is corrupt, not a reason to allocate tens of gigabytes.
constexpr uint64_t kMaxBytes = uint64_t{1} << 31;
// The payload is read in pieces that double from 64 KiB up to 16 MiB, so that
// memory grows with the data actually in the file, not with what a (corrupt)
// header claims.
constexpr size_t kFirstPiece = size_t{1} << 16, kLargestPiece = size_t{1} << 24;

void check_magic(const GzReader& in, uint32_t magic, uint32_t expected, const char* kind) {
  NIB_CHECK(magic == expected, "'", in.path(), "' is not an IDX ", kind, " file: magic number ", magic, " (0x",
            std::hex, magic, std::dec, "), expected ", expected, " (0x0000080", expected & 0xF,
            "). Is it a different file, or still compressed twice?");
}

// The whole payload must be there, and nothing after it.
std::vector<uint8_t> read_payload(GzReader& in, uint64_t size, const std::string& what) {
  std::vector<uint8_t> bytes;
  while (bytes.size() < size) {
    size_t have = bytes.size();
    size_t piece = static_cast<size_t>(std::min<uint64_t>(std::clamp(have, kFirstPiece, kLargestPiece), size - have));
    bytes.resize(have + piece);
    size_t got = in.read(bytes.data() + have, piece);
    NIB_CHECK(got == piece, "'", in.path(), "' is truncated: ", what, " need ", size, " bytes but the file holds ",
              have + got);
  }
  NIB_CHECK(in.at_end(), "'", in.path(), "' is longer than its header says (", what,
            "): extra bytes follow; the header or the file is corrupt");
  return bytes;
}

}  // namespace

Tensor load_idx_images(const std::string& path) {
  GzReader in(path);
  check_magic(in, in.read_u32_be("the IDX header"), kImagesMagic, "image");
  const uint64_t count = in.read_u32_be("the IDX header"), rows = in.read_u32_be("the IDX header"),
                 cols = in.read_u32_be("the IDX header");
  // In steps, so that no product can wrap around (each size is 32 bits).
  NIB_CHECK(rows > 0 && cols > 0 && rows * cols <= kMaxBytes && count <= kMaxBytes / (rows * cols), "'", path,
            "' has an implausible header: ", count, " images of ", rows, "x", cols, " (over ", kMaxBytes,
            " bytes of pixels)");

  std::vector<uint8_t> bytes = read_payload(in, count * rows * cols, str(count, " images of ", rows, "x", cols));
  Tensor images = Tensor::empty({static_cast<int64_t>(count), 1, static_cast<int64_t>(rows), static_cast<int64_t>(cols)});
  float* out = images.data();
  for (size_t i = 0; i < bytes.size(); ++i) out[i] = bytes[i] / 255.0f;  // divided, as torchvision ToTensor does
  return images;
}

Tensor load_idx_labels(const std::string& path) {
  GzReader in(path);
  check_magic(in, in.read_u32_be("the IDX header"), kLabelsMagic, "label");
  const uint64_t count = in.read_u32_be("the IDX header");
  NIB_CHECK(count <= kMaxBytes, "'", path, "' has an implausible header: ", count, " labels");

  std::vector<uint8_t> bytes = read_payload(in, count, str(count, " labels"));
  Tensor labels = Tensor::empty({static_cast<int64_t>(count)}, kCPU, DType::I32);
  std::copy(bytes.begin(), bytes.end(), labels.data_as<int32_t>());
  return labels;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  // "train-images-idx3-ubyte" is also published as "train-images.idx3-ubyte".
  std::string dotted = stem;
  size_t dash = dotted.rfind("-idx");
  if (dash != std::string::npos) dotted[dash] = '.';
  for (const std::string& name : {stem, stem + ".gz", dotted, dotted + ".gz"}) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

namespace {

Dataset load_idx_pair(const std::string& dir, const std::string& prefix) {
  const std::string images_stem = prefix + "-images-idx3-ubyte", labels_stem = prefix + "-labels-idx1-ubyte";
  std::string images_path = find_idx_file(dir, images_stem), labels_path = find_idx_file(dir, labels_stem);
  NIB_CHECK(!images_path.empty(), "no ", images_stem, "[.gz] in '", dir, "'");
  NIB_CHECK(!labels_path.empty(), "no ", labels_stem, "[.gz] in '", dir, "'");

  Dataset set;
  set.images = load_idx_images(images_path);
  set.labels = load_idx_labels(labels_path);
  set.source = images_path;
  NIB_CHECK(set.images.size(0) == set.labels.size(0), "'", images_path, "' holds ", set.images.size(0),
            " images but '", labels_path, "' holds ", set.labels.size(0), " labels");
  std::vector<int32_t> labels = set.label_vector();
  int32_t largest = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end());
  set.class_names = numbered_classes(largest + 1);
  return set;
}

}  // namespace

MnistData load_mnist(const std::string& dir) {
  std::error_code ec;
  NIB_CHECK(std::filesystem::is_directory(dir, ec), "MNIST: '", dir, "' is not a directory");
  return {load_idx_pair(dir, "train"), load_idx_pair(dir, "t10k")};
}

}  // namespace nib::data
