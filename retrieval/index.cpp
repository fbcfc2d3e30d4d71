#include "retrieval/index.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "formats/safetensors.h"
#include "retrieval/image_source.h"
#include "util/json.h"

namespace nib::retrieval {

namespace fs = std::filesystem;

namespace {

json::Value string_list(const std::vector<std::string>& items) {
  json::Value v = json::Value::array();
  for (const auto& s : items) v.push_back(s);
  return v;
}

json::Value int_list(const std::vector<int64_t>& items) {
  json::Value v = json::Value::array();
  for (int64_t x : items) v.push_back(x);
  return v;
}

}  // namespace

std::string ImageIndex::full_path(int64_t i) const {
  if (root.empty()) return paths.at(i);
  if (is_data_set_spec(root)) return root + "#" + paths.at(i);
  return (fs::path(root) / paths.at(i)).string();
}

void ImageIndex::save(const std::string& path) const {
  NIB_CHECK(features.defined() && features.dim() == 2 && static_cast<int64_t>(paths.size()) == features.size(0),
            "index: features and paths disagree");
  NamedTensors tensors{{"features", features.cpu()}};
  if (!labels.empty()) {
    Tensor l = Tensor::empty({static_cast<int64_t>(labels.size())}, kCPU, DType::I32);
    std::copy(labels.begin(), labels.end(), l.data_as<int32_t>());
    tensors.emplace_back("labels", l);
  }
  std::map<std::string, std::string> meta;
  meta["format"] = "nib-index-1";
  meta["root"] = root;
  meta["paths"] = json::dump(string_list(paths), -1);
  meta["class_names"] = json::dump(string_list(class_names), -1);
  meta["file_sizes"] = json::dump(int_list(file_sizes), -1);
  meta["file_times"] = json::dump(int_list(file_times), -1);
  for (const auto& [key, value] : extractor) meta["extractor." + key] = value;
  save_safetensors(path, tensors, meta);
}

ImageIndex ImageIndex::load(const std::string& path) {
  SafeTensorsFile file = load_safetensors(path);
  auto& meta = file.metadata;
  NIB_CHECK(meta.count("format") && meta["format"] == "nib-index-1", path,
            ": not a nib index (no format=nib-index-1 in its metadata)");
  ImageIndex index;
  index.root = meta["root"];
  // Each list is parsed into a named value first: iterating over
  // parse(...).as_array() directly would iterate over a destroyed temporary.
  auto list = [&](const std::string& key) {
    NIB_CHECK(meta.count(key), path, ": the index metadata has no '", key, "'");
    return json::parse(meta[key], path + " " + key);
  };
  try {
    json::Value paths = list("paths"), class_names = list("class_names");
    for (const auto& v : paths.as_array()) index.paths.push_back(v.as_string());
    for (const auto& v : class_names.as_array()) index.class_names.push_back(v.as_string());
    if (meta.count("file_sizes") && meta.count("file_times")) {
      json::Value sizes = list("file_sizes"), times = list("file_times");
      for (const auto& v : sizes.as_array()) index.file_sizes.push_back(v.as_int());
      for (const auto& v : times.as_array()) index.file_times.push_back(v.as_int());
    }
  } catch (const Error& e) {
    fail(path, ": corrupt index metadata: ", e.what());
  }
  for (const auto& [key, value] : meta)
    if (key.rfind("extractor.", 0) == 0) index.extractor[key.substr(10)] = value;
  for (const auto& [name, tensor] : file.tensors) {
    if (name == "features") index.features = tensor;
    if (name == "labels") {
      NIB_CHECK(tensor.dtype() == DType::I32, path, ": labels must be int32");
      const int32_t* p = tensor.data_as<int32_t>();
      index.labels.assign(p, p + tensor.numel());
    }
  }
  NIB_CHECK(index.features.defined() && index.features.dim() == 2 && index.features.dtype() == DType::F32, path,
            ": the index has no [N, D] float32 'features' tensor");
  int64_t n = index.features.size(0);
  NIB_CHECK(static_cast<int64_t>(index.paths.size()) == n, path, ": ", n, " feature rows but ", index.paths.size(),
            " paths");
  NIB_CHECK(index.labels.empty() || static_cast<int64_t>(index.labels.size()) == n, path, ": ", n,
            " feature rows but ", index.labels.size(), " labels");
  for (int32_t label : index.labels)
    NIB_CHECK(label >= 0 && label < static_cast<int32_t>(index.class_names.size()), path, ": label ", label,
              " outside its ", index.class_names.size(), " classes");
  return index;
}

std::vector<FoundImage> find_images(const std::string& root) {
  NIB_CHECK(fs::is_directory(root), root, ": not a directory");
  std::vector<FoundImage> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".bmp") continue;
    FoundImage image;
    fs::path relative = fs::relative(entry.path(), root);
    image.relative_path = relative.generic_string();
    if (relative.has_parent_path()) image.class_name = relative.begin()->string();
    image.size = static_cast<int64_t>(entry.file_size());
    // Microseconds: exact in the JSON metadata (whole numbers below 2^53), fine enough to see an edit.
    image.time = std::chrono::duration_cast<std::chrono::microseconds>(entry.last_write_time().time_since_epoch())
                     .count();
    found.push_back(image);
  }
  std::sort(found.begin(), found.end(),
            [](const FoundImage& a, const FoundImage& b) { return a.relative_path < b.relative_path; });
  NIB_CHECK(!found.empty(), root, ": no images (.jpg, .jpeg, .png, .bmp) found in this folder");
  return found;
}

}  // namespace nib::retrieval
