#include "datasets/data_source.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "datasets/csv_digits.h"
#include "datasets/mnist.h"

namespace fs = std::filesystem;

namespace nib::data {

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// <start>/shared/data, <start>/../shared/data, ... up to four levels up.
std::string search_upwards(fs::path start) {
  for (int level = 0; level <= 4 && !start.empty(); ++level) {
    fs::path candidate = start / "shared" / "data";
    if (is_dir(candidate)) return fs::weakly_canonical(candidate).string();
    if (start == start.parent_path()) break;
    start = start.parent_path();
  }
  return "";
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

const char* kExpected =
    "expected 'mnist', a folder of IDX files (train-images-idx3-ubyte[.gz], ...), a Kaggle digits .csv file, "
    "or a folder with one sub-folder of images (.png/.jpg/.bmp) per class";

}  // namespace

std::string data_dir() {
  if (const char* env = std::getenv("NIB_DATA"); env && *env) {
    NIB_CHECK(is_dir(env), "NIB_DATA is set to '", env, "', which is not a directory");
    return env;
  }
  std::error_code ec;
  if (std::string found = search_upwards(fs::current_path(ec)); !found.empty()) return found;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) return search_upwards(exe.parent_path());
  return "";
}

std::string DataSource::describe() const {
  switch (kind) {
    case DataKind::Mnist: return "MNIST (" + path + ")";
    case DataKind::IdxDir: return "IDX files in " + path;
    case DataKind::Csv: return "digits CSV " + path;
    case DataKind::ImageFolder: return "image folder " + path;
  }
  return path;
}

DataSource detect_data(const std::string& spec) {
  NIB_CHECK(!spec.empty(), "no data given: ", kExpected);
  if (spec == "mnist") {
    std::string root = data_dir();
    NIB_CHECK(!root.empty(), "'mnist' means <data dir>/mnist, but no data dir was found: set NIB_DATA to the folder "
              "holding mnist/, or run from a directory with shared/data above it");
    fs::path dir = fs::path(root) / "mnist";
    NIB_CHECK(is_dir(dir), "'mnist': '", dir.string(), "' does not exist");
    return {DataKind::Mnist, dir.string()};
  }

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
      return {std::move(m.train), std::move(m.test)};
    }
    case DataKind::Csv: return {load_digits_csv(source.path), Dataset{}};
    case DataKind::ImageFolder: return {load_image_folder(source.path, image_options), Dataset{}};
  }
  fail("load_data: unknown data kind");
}

}  // namespace nib::data
