#include "retrieval/image_source.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "datasets/data_source.h"
#include "ops/ops.h"
#include "retrieval/index.h"
#include "tensor/image_tensor.h"
#include "util/image_resample.h"

namespace nib::retrieval {

namespace fs = std::filesystem;

namespace {

struct DataSetSpec {
  std::string data, split;
  int64_t limit = 0;  // the first `limit` items only; 0 = all
};

// "mnist:test" or "mnist:test:1000".
DataSetSpec parse_data_set_spec(const std::string& spec) {
  DataSetSpec parsed;
  std::string rest = spec;
  size_t colon = rest.rfind(':');
  std::string tail = colon == std::string::npos ? "" : rest.substr(colon + 1);
  if (!tail.empty() && tail.find_first_not_of("0123456789") == std::string::npos) {
    parsed.limit = std::stoll(tail);
    NIB_CHECK(parsed.limit > 0, "'", spec, "': the number of items must be positive");
    rest = rest.substr(0, colon);
    colon = rest.rfind(':');
  }
  NIB_CHECK(colon != std::string::npos && colon > 0, "'", spec, "' is not DATA:SPLIT[:N] (e.g. mnist:test)");
  parsed.data = rest.substr(0, colon);
  parsed.split = rest.substr(colon + 1);
  NIB_CHECK(parsed.split == "train" || parsed.split == "test", "'", spec, "': the split must be train or test, not '",
            parsed.split, "'");
  return parsed;
}

data::Dataset load_data_set(const std::string& spec) {
  DataSetSpec parsed = parse_data_set_spec(spec);
  data::DataSource source = data::detect_data(parsed.data);
  NIB_CHECK(source.kind == data::DataKind::Mnist || source.kind == data::DataKind::IdxDir, "'", spec,
            "': DATA:SPLIT works with IDX data (mnist or a folder of IDX files); give a folder of images instead");
  data::LoadedData sets = data::load_data(source);
  data::Dataset set = parsed.split == "train" ? std::move(sets.train) : std::move(sets.test);
  if (parsed.limit > 0 && parsed.limit < set.size()) {
    set.images = set.images.slice_rows(0, parsed.limit);
    if (set.labelled()) set.labels = set.labels.slice_rows(0, parsed.limit);
  }
  return set;
}

ImageSource data_set_source(const std::string& spec) {
  data::Dataset set = load_data_set(spec);
  ImageSource source;
  source.root = spec;
  source.images = set.images;
  source.class_names = set.class_names;
  source.labels = set.label_vector();
  for (int64_t i = 0; i < set.size(); ++i) source.paths.push_back(std::to_string(i));
  source.sizes.assign(source.paths.size(), 0);
  source.times.assign(source.paths.size(), 0);
  return source;
}

ImageSource folder_source(const std::string& folder) {
  ImageSource source;
  source.root = fs::absolute(folder).lexically_normal().string();
  std::vector<FoundImage> found = find_images(folder);
  bool all_in_classes = std::all_of(found.begin(), found.end(), [](const FoundImage& f) {
    return !f.class_name.empty();
  });
  std::set<std::string> classes;
  for (const FoundImage& f : found) {
    source.paths.push_back(f.relative_path);
    source.sizes.push_back(f.size);
    source.times.push_back(f.time);
    classes.insert(f.class_name);
  }
  if (all_in_classes) {
    source.class_names.assign(classes.begin(), classes.end());
    for (const FoundImage& f : found)
      source.labels.push_back(static_cast<int32_t>(
          std::lower_bound(source.class_names.begin(), source.class_names.end(), f.class_name) -
          source.class_names.begin()));
  }
  return source;
}

ImageSource file_source(const std::string& file) {
  ImageSource source;
  fs::path path = fs::absolute(file).lexically_normal();
  source.root = path.parent_path().string();
  source.paths.push_back(path.filename().string());
  source.sizes.push_back(static_cast<int64_t>(fs::file_size(path)));
  source.times.push_back(
      std::chrono::duration_cast<std::chrono::microseconds>(fs::last_write_time(path).time_since_epoch()).count());
  return source;
}

// Gray stays gray, anything with colour becomes RGB (alpha dropped): what an image grid shows.
Image displayable(Image image, int max_side) {
  image = convert_channels(image, image.channels <= 2 ? 1 : 3);
  int longer = std::max(image.width, image.height);
  if (longer > max_side) {
    double scale = static_cast<double>(max_side) / longer;
    image = resize_pil_bilinear(image, std::max(1, static_cast<int>(image.width * scale + 0.5)),
                                std::max(1, static_cast<int>(image.height * scale + 0.5)));
  }
  return image;
}

}  // namespace

std::string ImageSource::full_path(int64_t i) const {
  if (in_memory()) return root + "#" + paths.at(i);
  return (fs::path(root) / paths.at(i)).string();
}

bool is_data_set_spec(const std::string& spec) {
  std::error_code ec;
  if (fs::exists(spec, ec)) return false;
  size_t colon = spec.rfind(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < spec.size();
}

ImageSource open_image_source(const std::string& spec) {
  NIB_CHECK(!spec.empty(), "no images given (a folder, an image file or DATA:SPLIT such as mnist:test)");
  if (is_data_set_spec(spec)) return data_set_source(spec);
  std::error_code ec;
  NIB_CHECK(fs::exists(spec, ec), spec, ": no such file or folder");
  if (fs::is_directory(spec, ec)) return folder_source(spec);
  return file_source(spec);
}

Tensor extract_features(FeatureExtractor& extractor, const ImageSource& source, const std::vector<int64_t>& which,
                        bool progress) {
  std::vector<int64_t> items = which;
  if (items.empty())
    for (int64_t i = 0; i < source.size(); ++i) items.push_back(i);
  if (source.in_memory()) {
    if (static_cast<int64_t>(items.size()) == source.size()) return extractor.extract_images(source.images, progress);
    std::vector<Tensor> rows;
    for (int64_t i : items) rows.push_back(source.images.slice_rows(i, i + 1));
    return extractor.extract_images(ops::concat(rows, 0), progress);
  }
  std::vector<std::string> files;
  for (int64_t i : items) files.push_back(source.full_path(i));
  return extractor.extract_files(files, progress);
}

std::vector<Image> load_originals(const std::string& root, const std::vector<std::string>& paths, int max_side) {
  std::vector<Image> images;
  if (is_data_set_spec(root)) {
    data::Dataset set = load_data_set(root);
    for (const std::string& path : paths) {
      int64_t i = std::stoll(path);
      NIB_CHECK(i >= 0 && i < set.size(), root, " has no item ", path);
      images.push_back(displayable(tensor_to_image(set.images.slice_rows(i, i + 1)), max_side));
    }
    return images;
  }
  for (const std::string& path : paths)
    images.push_back(displayable(load_image((fs::path(root) / path).string()), max_side));
  return images;
}

}  // namespace nib::retrieval
