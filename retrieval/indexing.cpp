#include "retrieval/indexing.h"

#include <cstring>
#include <unordered_map>

namespace nib::retrieval {

namespace {

std::string value_or(const std::map<std::string, std::string>& map, const std::string& key,
                     const std::string& fallback) {
  auto it = map.find(key);
  return it == map.end() ? fallback : it->second;
}

}  // namespace

std::string describe_extractor(const std::map<std::string, std::string>& d) {
  std::string size = value_or(d, "image_size", "?");
  std::string model = value_or(d, "model", "?"), layer = value_or(d, "layer", "?");
  std::string text = layer == model ? model : model + " layer " + layer;
  if (value_or(d, "global_pool", "false") == "true") text += " (pooled)";
  text += ", " + size + "x" + size;
  if (value_or(d, "center_crop", "1") != "1") text += ", crop " + value_or(d, "center_crop", "");
  if (value_or(d, "l2_normalize", "false") == "true") text += ", L2-normalised";
  if (d.count("prepare")) text += ", image files prepared " + d.at("prepare");
  return text;
}

ExtractorOptions fit_to_source(ExtractorOptions options, const ImageSource& source) {
  if (options.model == "pixels" && source.in_memory()) {
    if (options.image_size == 0) options.image_size = source.images.size(2);
    if (options.channels == 0) options.channels = source.images.size(1);
  }
  return options;
}

ImageIndex build_index(const ImageSource& source, FeatureExtractor& extractor, const ImageIndex* previous,
                       IndexUpdate* update, bool progress) {
  const int64_t n = source.size();
  NIB_CHECK(n > 0, source.root, ": no images to index");
  ImageIndex index;
  index.root = source.root;
  index.paths = source.paths;
  index.labels = source.labels;
  index.class_names = source.class_names;
  index.file_sizes = source.sizes;
  index.file_times = source.times;
  index.extractor = extractor.describe();

  // Which rows of the previous index can be kept as they are.
  std::vector<int64_t> kept_row(static_cast<size_t>(n), -1);
  IndexUpdate counts;
  if (previous) {
    NIB_CHECK(previous->extractor == index.extractor, "the index was made with ",
              describe_extractor(previous->extractor), " but these options give ", describe_extractor(index.extractor),
              "; refusing to mix the two in one index (build a new one without --update)");
    NIB_CHECK(previous->root == index.root, "the index was made from ", previous->root, ", not ", index.root,
              " (build a new one without --update)");
    bool has_stamps = previous->file_sizes.size() == previous->paths.size() &&
                      previous->file_times.size() == previous->paths.size();
    std::unordered_map<std::string, int64_t> row_of;
    for (int64_t r = 0; r < previous->size(); ++r) row_of[previous->paths[r]] = r;
    int64_t still_there = 0;
    for (int64_t i = 0; i < n; ++i) {
      auto it = row_of.find(source.paths[i]);
      if (it == row_of.end()) continue;
      ++still_there;
      int64_t r = it->second;
      if (has_stamps && previous->file_sizes[r] == source.sizes[i] && previous->file_times[r] == source.times[i])
        kept_row[i] = r;
    }
    counts.removed = previous->size() - still_there;
  }

  std::vector<int64_t> to_extract;
  for (int64_t i = 0; i < n; ++i)
    if (kept_row[i] < 0) to_extract.push_back(i);
  counts.extracted = static_cast<int64_t>(to_extract.size());
  counts.reused = n - counts.extracted;
  Tensor fresh = to_extract.empty() ? Tensor() : extract_features(extractor, source, to_extract, progress);

  int64_t dim = fresh.defined() ? fresh.size(1) : previous->features.size(1);
  NIB_CHECK(!previous || previous->size() == 0 || previous->features.size(1) == dim, "the index holds ",
            previous->features.size(1), "-d features but the extractor now gives ", dim,
            "-d ones (did the weights change?); build a new index without --update");
  index.features = Tensor::empty({n, dim});
  float* out = index.features.data();
  size_t row_bytes = static_cast<size_t>(dim) * sizeof(float);
  const float* fresh_rows = fresh.defined() ? fresh.data() : nullptr;
  for (int64_t i = 0, next_fresh = 0; i < n; ++i) {
    const float* row = kept_row[i] >= 0 ? previous->features.data() + kept_row[i] * dim : fresh_rows + next_fresh++ * dim;
    std::memcpy(out + i * dim, row, row_bytes);
  }
  if (update) *update = counts;
  return index;
}

std::vector<int32_t> labels_in_index(const ImageIndex& index, const ImageSource& source) {
  if (!index.labelled() || !source.labelled()) return {};
  std::unordered_map<std::string, int32_t> number_of;
  for (size_t c = 0; c < index.class_names.size(); ++c) number_of[index.class_names[c]] = static_cast<int32_t>(c);
  std::vector<int32_t> labels;
  for (int32_t label : source.labels) {
    auto it = number_of.find(source.class_names.at(label));
    labels.push_back(it == number_of.end() ? -1 : it->second);
  }
  return labels;
}

FeatureExtractor extractor_of(const ImageIndex& index) { return FeatureExtractor(extractor_options(index.extractor)); }

Tensor embed_like_index(const ImageIndex& index, const ImageSource& source, bool progress) {
  FeatureExtractor extractor = extractor_of(index);
  Tensor features = extract_features(extractor, source, {}, progress);
  NIB_CHECK(features.size(1) == index.features.size(1), "the index holds ", index.features.size(1),
            "-d features but its extractor (", describe_extractor(index.extractor), ") now gives ", features.size(1),
            "-d ones: the model or weights changed since the index was built; rebuild it");
  return features;
}

}  // namespace nib::retrieval
