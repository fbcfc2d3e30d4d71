// Dataset loaders (IDX/MNIST, Kaggle CSV, image folders), data detection and
// splits, on small files written here, plus the real shared data when present.
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <cstdlib>
#include <map>

#include "datasets/csv_digits.h"
#include "datasets/data_source.h"
#include "datasets/image_folder.h"
#include "datasets/mnist.h"
#include "datasets/split.h"
#include "tests/helpers.h"
#include "tests/shared_data.h"
#include "tests/temp_dir.h"
#include "util/image.h"

using namespace nib;
using namespace nib::data;
using nib::testing::TempDir;
using nib::testing::write_bytes;
using nib::testing::write_text;

namespace {

void put_u32(std::vector<unsigned char>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

// An IDX file's bytes: magic, sizes, then the payload.
std::vector<unsigned char> idx_bytes(uint32_t magic, std::vector<uint32_t> sizes, const std::vector<unsigned char>& payload) {
  std::vector<unsigned char> out;
  put_u32(out, magic);
  for (uint32_t s : sizes) put_u32(out, s);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void write_gz(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  gzclose(f);
}

std::vector<unsigned char> ramp(size_t n) {
  std::vector<unsigned char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>((i * 7) % 256);
  return v;
}

// A tiny MNIST folder: `train` and `t10k` sets of 3x2 images, gzipped or not.
void write_tiny_mnist(const TempDir& dir, bool gz, uint32_t train = 5, uint32_t test = 3) {
  for (auto [prefix, n] : {std::pair<std::string, uint32_t>{"train", train}, {"t10k", test}}) {
    std::vector<unsigned char> labels(n);
    for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<unsigned char>(i % 3);
    auto images = idx_bytes(2051, {n, 3, 2}, ramp(n * 6));
    auto label_file = idx_bytes(2049, {n}, labels);
    std::string suffix = gz ? ".gz" : "";
    if (gz) {
      write_gz(dir.file(prefix + "-images-idx3-ubyte" + suffix), images);
      write_gz(dir.file(prefix + "-labels-idx1-ubyte" + suffix), label_file);
    } else {
      write_bytes(dir.file(prefix + "-images-idx3-ubyte"), images);
      write_bytes(dir.file(prefix + "-labels-idx1-ubyte"), label_file);
    }
  }
}

}  // namespace

TEST_CASE("IDX files load, gzipped or plain, with pixels scaled to [0, 1]") {
  for (bool gz : {false, true}) {
    TempDir dir;
    write_tiny_mnist(dir, gz);
    MnistData m = load_mnist(dir.str());
    CHECK(m.train.images.shape() == Shape{5, 1, 3, 2});
    CHECK(m.test.images.shape() == Shape{3, 1, 3, 2});
    CHECK(m.train.labels.dtype() == DType::I32);
    CHECK(m.train.label_vector() == std::vector<int32_t>{0, 1, 2, 0, 1});
    std::vector<float> px = m.train.images.to_vector();
    CHECK(px[4] == 28 / 255.0f);  // byte 4 of the ramp is 28
    CHECK(m.train.class_names == std::vector<std::string>{"0", "1", "2"});
  }
}

TEST_CASE("broken IDX files are errors that name the file and the problem") {
  TempDir dir;
  std::string path = dir.file("x-idx3-ubyte");

  write_bytes(path, idx_bytes(2049, {4}, ramp(4)));  // a label file where images are expected
  CHECK_THROWS_WITH_AS(load_idx_images(path), doctest::Contains("magic number 2049"), Error);
  CHECK_THROWS_WITH_AS(load_idx_images(path), doctest::Contains(path.c_str()), Error);

  write_bytes(path, idx_bytes(2051, {5, 3, 2}, ramp(4 * 6)));  // the header promises 5 images, 4 follow
  CHECK_THROWS_WITH_AS(load_idx_images(path), doctest::Contains("truncated"), Error);
  CHECK_THROWS_WITH_AS(load_idx_images(path), doctest::Contains(path.c_str()), Error);

  write_bytes(path, idx_bytes(2051, {2, 3, 2}, ramp(3 * 6)));  // more data than the header says
  CHECK_THROWS_WITH_AS(load_idx_images(path), doctest::Contains("longer than its header"), Error);

  write_bytes(path, {0, 0, 8});  // not even a header
  CHECK_THROWS_WITH_AS(load_idx_images(path), doctest::Contains("truncated"), Error);

  // A gzip stream cut short.
  std::string gz = dir.file("y-idx3-ubyte.gz");
  std::vector<unsigned char> big = idx_bytes(2051, {100, 28, 28}, ramp(100 * 784));
  write_gz(gz, big);
  std::vector<unsigned char> compressed = nib::testing::read_bytes(gz);
  compressed.resize(compressed.size() / 2);
  write_bytes(gz, compressed);
  CHECK_THROWS_WITH_AS(load_idx_images(gz), doctest::Contains("truncated"), Error);
  CHECK_THROWS_WITH_AS(load_idx_images(gz), doctest::Contains(gz.c_str()), Error);

  CHECK_THROWS_WITH_AS(load_idx_labels(dir.file("none")), doctest::Contains("cannot open"), Error);
}

TEST_CASE("load_mnist reports image and label counts that disagree, and missing files") {
  TempDir dir;
  write_tiny_mnist(dir, false);
  write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(2049, {2}, {1, 2}));
  CHECK_THROWS_WITH_AS(load_mnist(dir.str()), doctest::Contains("3 images"), Error);
  CHECK_THROWS_WITH_AS(load_mnist(dir.str()), doctest::Contains("2 labels"), Error);
  std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
  CHECK_THROWS_WITH_AS(load_mnist(dir.str()), doctest::Contains("t10k-labels-idx1-ubyte"), Error);
}

TEST_CASE("Kaggle digit CSV files load labelled and unlabelled") {
  TempDir dir;
  std::string header = "label", row_a = "7", row_b = "0";
  std::string test_header, test_row;
  for (int i = 0; i < 784; ++i) {
    const std::string sep = i ? "," : "";
    header.append(",pixel").append(std::to_string(i));
    row_a.append(",").append(std::to_string(i % 256));
    row_b.append(",0");
    test_header.append(sep).append("pixel").append(std::to_string(i));
    test_row.append(sep).append(std::to_string(255 - i % 256));
  }
  write_text(dir.file("train.csv"), header + "\n" + row_a + "\r\n" + row_b + "\n\n");
  Dataset train = load_digits_csv(dir.file("train.csv"));
  CHECK(train.images.shape() == Shape{2, 1, 28, 28});
  CHECK(train.label_vector() == std::vector<int32_t>{7, 0});
  CHECK(train.images.to_vector()[300] == 44 / 255.0f);

  write_text(dir.file("test.csv"), test_header + "\n" + test_row + "\n");
  Dataset test = load_digits_csv(dir.file("test.csv"));
  CHECK(test.images.shape() == Shape{1, 1, 28, 28});
  CHECK_FALSE(test.labelled());
  CHECK(test.images.to_vector()[0] == 1.0f);
}

TEST_CASE("CSV errors name the file and the line") {
  TempDir dir;
  std::string header = "label,a,b,c,d";  // 2x2 pixels
  std::string path = dir.file("bad.csv");
  write_text(path, header + "\n1,0,0,0,0\n2,0,0,0\n");
  CHECK_THROWS_WITH_AS(load_digits_csv(path), doctest::Contains("bad.csv:3"), Error);
  CHECK_THROWS_WITH_AS(load_digits_csv(path), doctest::Contains("4 columns"), Error);
  write_text(path, header + "\n1,0,x7,0,0\n");
  CHECK_THROWS_WITH_AS(load_digits_csv(path), doctest::Contains("bad.csv:2: column 3 is 'x7', not a number"), Error);
  write_text(path, header + "\n1,0,0,256,0\n");
  CHECK_THROWS_WITH_AS(load_digits_csv(path), doctest::Contains("outside 0..255"), Error);
  write_text(path, header + "\n12,0,0,0,0\n");
  CHECK_THROWS_WITH_AS(load_digits_csv(path), doctest::Contains("not a digit"), Error);
  write_text(path, "label,a,b\n1,0,0\n");
  CHECK_THROWS_WITH_AS(load_digits_csv(path), doctest::Contains("bad.csv:1"), Error);
}

namespace {

// Two classes of 6x4 PNG images: "cat" pixels are dark, "dog" pixels bright.
void write_tiny_folder(const TempDir& dir) {
  for (int i = 0; i < 3; ++i) save_image(Image(6, 4, 3, 0.2f), dir.file("pets/cat/" + std::to_string(i) + ".png"));
  for (int i = 0; i < 2; ++i) save_image(Image(6, 4, 1, 0.8f), dir.file("pets/dog/" + std::to_string(i) + ".PNG"));
  write_text(dir.file("pets/dog/readme.txt"), "not an image");
  write_text(dir.file("pets/index.csv"), "ignored");
}

}  // namespace

TEST_CASE("an image folder loads one class per sub-folder, in sorted order") {
  TempDir dir;
  write_tiny_folder(dir);
  ImageFolderOptions options;
  options.channels = 1;
  Dataset set = load_image_folder(dir.file("pets"), options);
  CHECK(set.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(set.images.shape() == Shape{5, 1, 4, 6});
  CHECK(set.label_vector() == std::vector<int32_t>{0, 0, 0, 1, 1});
  std::vector<float> px = set.images.to_vector();
  CHECK(px[0] == doctest::Approx(51 / 255.0).epsilon(1e-5));
  CHECK(px.back() == doctest::Approx(204 / 255.0));

  options.channels = 3;
  options.image_size = 8;
  Dataset resized = load_image_folder(dir.file("pets"), options);
  CHECK(resized.images.shape() == Shape{5, 3, 8, 8});
}

TEST_CASE("a corrupt image in a folder is an error naming it, unless skipped") {
  TempDir dir;
  write_tiny_folder(dir);
  write_text(dir.file("pets/cat/broken.jpg"), "garbage");
  CHECK_THROWS_WITH_AS(load_image_folder(dir.file("pets")), doctest::Contains("broken.jpg"), Error);

  ImageFolderOptions skip;
  skip.skip_bad_images = true;
  Dataset set = load_image_folder(dir.file("pets"), skip);
  CHECK(set.size() == 5);
  CHECK(set.label_vector() == std::vector<int32_t>{0, 0, 0, 1, 1});

  std::filesystem::remove(dir.file("pets/cat/broken.jpg"));
  save_image(Image(3, 3, 3), dir.file("pets/cat/small.png"));  // a different size, no resize asked
  CHECK_THROWS_WITH_AS(load_image_folder(dir.file("pets")), doctest::Contains("3x3"), Error);
  CHECK_THROWS_WITH_AS(load_image_folder(dir.file("nothing")), doctest::Contains("not a directory"), Error);
}

TEST_CASE("detect_data recognises IDX folders, CSV files and image folders") {
  TempDir dir;
  write_tiny_mnist(dir, true);
  write_tiny_folder(dir);
  write_text(dir.file("digits.csv"), "label,a\n1,0\n");
  std::filesystem::create_directories(dir.file("empty/x"));

  CHECK(detect_data(dir.str()).kind == DataKind::IdxDir);
  CHECK(detect_data(dir.file("digits.csv")).kind == DataKind::Csv);
  DataSource folder = detect_data(dir.file("pets"));
  CHECK(folder.kind == DataKind::ImageFolder);
  CHECK(folder.describe().find("pets") != std::string::npos);
  CHECK_THROWS_WITH_AS(detect_data(dir.file("empty")), doctest::Contains("expected 'mnist'"), Error);
  CHECK_THROWS_WITH_AS(detect_data(dir.file("missing")), doctest::Contains("does not exist"), Error);
  CHECK_THROWS_WITH_AS(detect_data(dir.file("pets/cat/0.png")), doctest::Contains("not a .csv"), Error);

  LoadedData idx = load_data(detect_data(dir.str()));
  CHECK(idx.train.size() == 5);
  CHECK(idx.has_test());
  LoadedData pets = load_data(folder, {.image_size = 4, .channels = 1});
  CHECK(pets.train.images.shape() == Shape{5, 1, 4, 4});
  CHECK_FALSE(pets.has_test());
}

TEST_CASE("stratified_split keeps every class's share and is reproducible by seed") {
  std::vector<float> dummy;
  std::vector<int32_t> y;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 100 * (k + 1); ++i) y.push_back(k);  // 100, 200, 300 examples
  Tensor labels = Tensor::empty({static_cast<int64_t>(y.size())}, kCPU, DType::I32);
  std::copy(y.begin(), y.end(), labels.data_as<int32_t>());

  Split split = stratified_split(labels, 0.1, 42);
  CHECK(split.train.size() + split.val.size() == y.size());
  std::map<int32_t, int> val_per_class;
  for (int64_t i : split.val) val_per_class[y[i]]++;
  CHECK(val_per_class[0] == 10);
  CHECK(val_per_class[1] == 20);
  CHECK(val_per_class[2] == 30);
  std::vector<int64_t> all = split.train;
  all.insert(all.end(), split.val.begin(), split.val.end());
  std::sort(all.begin(), all.end());
  CHECK(all == all_indices(static_cast<int64_t>(y.size())));  // a partition: nothing lost, nothing twice

  CHECK(stratified_split(labels, 0.1, 42).val == split.val);
  CHECK(stratified_split(labels, 0.1, 43).val != split.val);
  CHECK(stratified_split(labels, 0.0, 1).val.empty());
  CHECK_THROWS_AS(stratified_split(labels, 1.0, 1), Error);
}

TEST_CASE("subset copies the chosen examples in order") {
  Dataset set;
  set.images = Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, 7}, {4, 1, 1, 2});
  set.labels = Tensor::empty({4}, kCPU, DType::I32);
  for (int i = 0; i < 4; ++i) set.labels.data_as<int32_t>()[i] = 10 + i;
  set.class_names = {"a"};
  Dataset sub = subset(set, {3, 1});
  CHECK(sub.images.to_vector() == std::vector<float>{6, 7, 2, 3});
  CHECK(sub.label_vector() == std::vector<int32_t>{13, 11});
  CHECK(sub.class_names == set.class_names);
  CHECK_THROWS_AS(subset(set, {4}), Error);
}

TEST_CASE("the shared MNIST files load with 60000 and 10000 examples" *
          doctest::skip(!nib::testing::has_shared_data("mnist"))) {
  std::string root = nib::testing::shared_data_dir();
  MnistData m = load_mnist(root + "/mnist");
  CHECK(m.train.images.shape() == Shape{60000, 1, 28, 28});
  CHECK(m.test.images.shape() == Shape{10000, 1, 28, 28});
  std::vector<int32_t> y = m.test.label_vector();
  CHECK(std::count(y.begin(), y.end(), 0) == 980);  // the published class counts
  CHECK(std::count(y.begin(), y.end(), 9) == 1009);
  std::vector<float> px = m.train.images.slice_rows(0, 1).to_vector();
  CHECK(*std::max_element(px.begin(), px.end()) == 1.0f);
}

TEST_CASE("the shared hand-written digits load as 3 classes" *
          doctest::skip(!nib::testing::has_shared_data("hand_written_digits"))) {
  std::string root = nib::testing::shared_data_dir();
  DataSource source = detect_data(root + "/hand_written_digits");
  CHECK(source.kind == DataKind::ImageFolder);
  Dataset set = load_image_folder(source.path, {.image_size = 28, .channels = 1, .progress = false});
  CHECK(set.class_names == std::vector<std::string>{"0_digits", "1_digits", "2_digits"});
  CHECK(set.size() == 4659);
  CHECK(set.images.shape() == Shape{4659, 1, 28, 28});
  std::vector<int32_t> y = set.label_vector();
  CHECK(std::count(y.begin(), y.end(), 2) == 1553);
}

TEST_CASE("data_dir follows NIB_DATA, and 'mnist' resolves inside it") {
  TempDir dir;
  write_text(dir.file("mnist/train-images-idx3-ubyte"), "");  // IDX files there: no download
  const char* saved = std::getenv("NIB_DATA");
  std::string saved_value = saved ? saved : "";
  setenv("NIB_DATA", dir.str().c_str(), 1);
  CHECK(data_dir() == dir.str());
  DataSource m = detect_data("mnist");
  CHECK(m.kind == DataKind::Mnist);
  CHECK(m.path == dir.file("mnist"));
  setenv("NIB_DATA", dir.file("missing").c_str(), 1);
  CHECK_THROWS_WITH_AS(data_dir(), doctest::Contains("NIB_DATA"), Error);
  if (saved)
    setenv("NIB_DATA", saved_value.c_str(), 1);
  else
    unsetenv("NIB_DATA");
}
