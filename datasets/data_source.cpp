#include "datasets/data_source.h"

#include <filesystem>

#include "datasets/csv_digits.h"
#include "datasets/mnist.h"
#include "hub/fetch.h"

namespace fs = std::filesystem;

namespace nib::data {

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool has_idx_files(const fs::path& dir) {
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find("-ubyte") != std::string::npos) return true;
  return false;
}

bool has_class_folders(const fs::path& dir) {
  for (const fs::directory_entry& sub : fs::directory_iterator(dir)) {
    if (!sub.is_directory() || sub.path().filename().string().starts_with(".")) continue;
    for (const fs::directory_entry& f : fs::directory_iterator(sub.path()))
      if (is_image_file(f.path().string())) return true;
  }
  return false;
}

// A data dir's own copy is used as it is (compressed or not, as before there
// was a cache); otherwise the cache's, downloaded when missing.
std::string known_data_set_folder(const hub::KnownItem& item) {
  std::string root = data_dir();
  if (fs::path own = fs::path(root) / item.folder(); !root.empty() && is_dir(own) && has_idx_files(own))
    return own.string();
  return hub::ensure_item(item);
}

const char* kExpected =
    "expected 'mnist', 'fashion_mnist', a folder of IDX files (train-images-idx3-ubyte[.gz], ...), a Kaggle digits "
    ".csv file, or a folder with one sub-folder of images (.png/.jpg/.bmp) per class";

}  // namespace

std::string DataSource::describe() const {
  switch (kind) {
    case DataKind::Mnist: return title + " (" + path + ")";
    case DataKind::IdxDir: return "IDX files in " + path;
    case DataKind::Csv: return "digits CSV " + path;
    case DataKind::ImageFolder: return "image folder " + path;
  }
  return path;
}

DataSource detect_data(const std::string& spec) {
  NIB_CHECK(!spec.empty(), "no data given: ", kExpected);
  if (const hub::KnownItem* item = hub::find_item(spec); item && item->kind == hub::ItemKind::DataSet)
    return {DataKind::Mnist, known_data_set_folder(*item), item->title, item->class_names};

  fs::path path = spec;
  std::error_code ec;
  if (!fs::exists(path, ec) && path.is_relative()) {
    if (std::string root = data_dir(); !root.empty() && fs::exists(fs::path(root) / path, ec)) path = fs::path(root) / path;
  }
  NIB_CHECK(fs::exists(path, ec), "data '", spec, "' does not exist (also looked in the data dir '", data_dir(),
            "'); ", kExpected);

  if (fs::is_regular_file(path, ec)) {
    std::string ext = path.extension().string();
    NIB_CHECK(ext == ".csv" || ext == ".CSV", "data '", spec, "' is a file but not a .csv; ", kExpected);
    return {DataKind::Csv, path.string()};
  }
  if (has_idx_files(path)) return {DataKind::IdxDir, path.string()};
  if (has_class_folders(path)) return {DataKind::ImageFolder, path.string()};
  fail("data '", spec, "' is a folder without IDX files or class folders of images; ", kExpected);
}

LoadedData load_data(const DataSource& source, const ImageFolderOptions& image_options) {
  switch (source.kind) {
    case DataKind::Mnist:
    case DataKind::IdxDir: {
      MnistData m = load_mnist(source.path);
      if (!source.class_names.empty()) m.train.class_names = m.test.class_names = source.class_names;
      return {std::move(m.train), std::move(m.test)};
    }
    case DataKind::Csv: return {load_digits_csv(source.path), Dataset{}};
    case DataKind::ImageFolder: return {load_image_folder(source.path, image_options), Dataset{}};
  }
  fail("load_data: unknown data kind");
}

}  // namespace nib::data
