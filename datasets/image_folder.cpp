#include "datasets/image_folder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tensor/image_tensor.h"
#include "util/image.h"

namespace fs = std::filesystem;

namespace nib::data {

namespace {

constexpr size_t kProgressThreshold = 2000;  // folders this big print a line while they load

std::vector<std::string> sorted_entries(const std::string& dir, bool directories) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ec;
    bool is_dir = entry.is_directory(ec);
    if (directories ? is_dir : (!is_dir && is_image_file(name))) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Decodes the files in parallel into [N, C, S, S]; `ok[i]` says whether file i
// loaded. Exceptions cannot leave an OpenMP loop, so each thread records the
// message of its failure and the first one is reported after the loop.
Tensor load_all(const std::vector<std::string>& paths, const ImageFolderOptions& options, std::vector<char>& ok,
                const std::string& what) {
  NIB_CHECK(options.channels == 1 || options.channels == 3, what, ": channels must be 1 or 3, got ",
            options.channels);
  NIB_CHECK(options.image_size >= 0, what, ": image_size must be >= 0, got ", options.image_size);
  const int64_t n = static_cast<int64_t>(paths.size());
  NIB_CHECK(n > 0, what, ": no images (expected .png, .jpg, .jpeg or .bmp files)");
  NIB_CHECK(!options.prepare || options.image_size > 0, what, ": preparing images needs the size they become");

  // The size every image must end up with: image_size, or the first image's own.
  int width = options.image_size, height = options.image_size;
  for (size_t i = 0; width == 0; ++i) {
    try {
      Image first = load_image(paths[i], options.channels);
      width = first.width;
      height = first.height;
    } catch (const Error&) {
      if (!options.skip_bad_images || i + 1 == paths.size()) throw;
    }
  }
  const int C = options.channels;
  const size_t plane = static_cast<size_t>(width) * height;
  Tensor images = Tensor::empty({n, C, height, width});
  float* out = images.data();
  ok.assign(paths.size(), 0);
  std::vector<std::string> errors(paths.size());

  const bool report = options.progress && paths.size() >= kProgressThreshold;
  auto start = std::chrono::steady_clock::now();
  if (report) std::fprintf(stderr, "%s: loading %lld images...\n", what.c_str(), static_cast<long long>(n));

#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    try {
      Image image = options.prepare ? options.prepare(load_image(paths[i]), paths[i]) : load_image(paths[i], C);
      if (options.image_size > 0 && !options.prepare) image = resize(image, width, height);
      NIB_CHECK(image.width == width && image.height == height && image.channels == C, "'", paths[i], "' is ",
                image.width, "x", image.height, "x", image.channels, " but the first image is ", width, "x", height,
                "x", C, "; set an image size to resize them");
      Tensor chw = image_to_tensor(image);
      std::memcpy(out + static_cast<size_t>(i) * C * plane, chw.data(), C * plane * sizeof(float));
      ok[i] = 1;
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  }

  for (int64_t i = 0; i < n; ++i) {
    if (ok[i]) continue;
    if (!options.skip_bad_images) fail(errors[i], " (skip unreadable images with skip_bad_images)");
    std::fprintf(stderr, "warning: skipping %s\n", errors[i].c_str());
  }
  if (report) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%s: %lld images of %dx%dx%d in %.1fs\n", what.c_str(), static_cast<long long>(n), C,
                 height, width, seconds);
  }
  return images;
}

// Keeps the rows of `images` (and entries of `labels`) whose file loaded.
void drop_failed(Tensor& images, std::vector<int32_t>& labels, const std::vector<char>& ok) {
  int64_t kept = std::count(ok.begin(), ok.end(), 1);
  if (kept == static_cast<int64_t>(ok.size())) return;
  NIB_CHECK(kept > 0, "none of the images could be read");
  Shape shape = images.shape();
  const size_t row = static_cast<size_t>(images.numel() / shape[0]);
  shape[0] = kept;
  Tensor compact = Tensor::empty(shape);
  std::vector<int32_t> kept_labels;
  int64_t k = 0;
  for (size_t i = 0; i < ok.size(); ++i) {
    if (!ok[i]) continue;
    std::memcpy(compact.data() + k++ * row, images.data() + i * row, row * sizeof(float));
    if (!labels.empty()) kept_labels.push_back(labels[i]);
  }
  images = compact;
  labels = std::move(kept_labels);
}

}  // namespace

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options) {
  std::error_code ec;
  NIB_CHECK(fs::is_directory(dir, ec), "image folder: '", dir, "' is not a directory");
  std::vector<std::string> classes = sorted_entries(dir, /*directories=*/true);
  NIB_CHECK(!classes.empty(), "image folder: '", dir,
            "' has no sub-folders; expected one folder of images per class (", dir, "/<class>/<image>.png)");

  std::vector<std::string> paths;
  std::vector<int32_t> labels;
  for (size_t k = 0; k < classes.size(); ++k) {
    std::string class_dir = (fs::path(dir) / classes[k]).string();
    std::vector<std::string> files = sorted_entries(class_dir, /*directories=*/false);
    NIB_CHECK(!files.empty(), "image folder: class folder '", class_dir, "' has no .png/.jpg/.jpeg/.bmp images");
    for (const std::string& f : files) {
      paths.push_back((fs::path(class_dir) / f).string());
      labels.push_back(static_cast<int32_t>(k));
    }
  }

  std::vector<char> ok;
  Dataset set;
  set.images = load_all(paths, options, ok, dir);
  drop_failed(set.images, labels, ok);
  set.labels = Tensor::empty({static_cast<int64_t>(labels.size())}, kCPU, DType::I32);
  std::copy(labels.begin(), labels.end(), set.labels.data_as<int32_t>());
  set.class_names = classes;
  set.source = dir;
  return set;
}

Dataset load_image_files(const std::vector<std::string>& paths, const ImageFolderOptions& options) {
  std::vector<char> ok;
  std::vector<int32_t> no_labels;
  Dataset set;
  set.images = load_all(paths, options, ok, "images");
  drop_failed(set.images, no_labels, ok);
  set.source = paths.size() == 1 ? paths[0] : str(paths.size(), " image files");
  return set;
}

}  // namespace nib::data
