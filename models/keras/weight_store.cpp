#include "models/keras/weight_store.h"

#include <cctype>
#include <map>

namespace nib::formats::keras {

namespace {

using models::keras::GraphLayer;

std::string slot_names(const std::vector<WeightSlot>& slots) {
  std::string out;
  for (const auto& slot : slots) out += (out.empty() ? "" : ", ") + slot.names[0];
  return out.empty() ? "none" : out;
}

// "sequential/dense/kernel:0" -> "kernel"
std::string short_name(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (auto colon = name.find(':'); colon != std::string::npos) name.resize(colon);
  return name;
}

class H5Store : public WeightStore {
 public:
  explicit H5Store(std::shared_ptr<hdf5::File> file) : file_(std::move(file)) {
    root_ = file_->exists("model_weights") ? "model_weights" : "";
  }
  const std::string& source() const override { return file_->name(); }

  std::vector<Tensor> layer_weights(const GraphLayer& layer, const std::vector<WeightSlot>& slots) override {
    std::string group = root_.empty() ? layer.name : root_ + "/" + layer.name;
    std::map<std::string, std::string> by_name;  // short name -> dataset path
    if (file_->is_group(group)) {
      std::vector<std::string> paths;
      if (file_->has_attribute(group, "weight_names") || file_->has_attribute(group, "weight_names0"))
        for (const auto& name : file_->string_list_attribute(group, "weight_names"))
          paths.push_back(group + "/" + name);
      else
        collect_datasets(group, paths);
      for (const auto& path : paths) {
        NIB_CHECK(!by_name.count(short_name(path)), source(), ": layer '", layer.name, "' has two weights called '",
                  short_name(path), "'");
        by_name[short_name(path)] = path;
      }
    }
    std::vector<Tensor> out;
    for (const WeightSlot& slot : slots) {
      std::string path;
      for (const auto& name : slot.names)
        if (by_name.count(name)) path = by_name[name];
      NIB_CHECK(!path.empty(), source(), ": layer '", layer.name, "' (", layer.class_name, ") has no weight '",
                slot.names[0], "' in ", group, " (expected: ", slot_names(slots), ")");
      NIB_CHECK(file_->exists(path), source(), ": layer '", layer.name, "': weight ", path,
                " is listed in weight_names but missing");
      out.push_back(file_->read_tensor(path));
    }
    NIB_CHECK(by_name.size() == slots.size(), source(), ": layer '", layer.name, "' (", layer.class_name, ") has ",
              by_name.size(), " weights in the file, expected ", slots.size(), " (", slot_names(slots), ")");
    return out;
  }

 private:
  void collect_datasets(const std::string& group, std::vector<std::string>& out) const {
    for (const auto& member : file_->members(group)) {
      std::string path = group + "/" + member;
      if (file_->is_group(path)) collect_datasets(path, out);
      else out.push_back(path);
    }
  }

  std::shared_ptr<hdf5::File> file_;
  std::string root_;
};

class ZipStore : public WeightStore {
 public:
  ZipStore(std::shared_ptr<hdf5::File> file, const std::vector<GraphLayer>& layers) : file_(std::move(file)) {
    // Keras 3 keeps layers under "layers"; TF-Keras 2.13-2.15 under "_layer_checkpoint_dependencies".
    std::string root = file_->exists("_layer_checkpoint_dependencies") && !file_->exists("layers")
                           ? "_layer_checkpoint_dependencies"
                           : "layers";
    std::map<std::string, int> used;
    for (const auto& layer : layers) {
      std::string key = snake_case(layer.class_name);
      auto [it, fresh] = used.emplace(key, 0);
      if (!fresh) key = str(key, "_", ++it->second);
      groups_[layer.name] = str(root, "/", key, "/vars");
    }
  }
  const std::string& source() const override { return file_->name(); }

  std::vector<Tensor> layer_weights(const GraphLayer& layer, const std::vector<WeightSlot>& slots) override {
    const std::string& group = groups_.at(layer.name);
    size_t stored = file_->is_group(group) ? file_->members(group).size() : 0;
    NIB_CHECK(stored == slots.size(), source(), ": layer '", layer.name, "' (", layer.class_name, ") has ", stored,
              " weights in ", group, ", expected ", slots.size(), " (", slot_names(slots), ")");
    std::vector<Tensor> out;
    for (size_t i = 0; i < slots.size(); ++i) {
      std::string path = group + "/" + std::to_string(i);
      NIB_CHECK(file_->exists(path), source(), ": layer '", layer.name, "' has no weight ", path, " (",
                slots[i].names[0], ")");
      out.push_back(file_->read_tensor(path));
    }
    return out;
  }

 private:
  std::shared_ptr<hdf5::File> file_;
  std::map<std::string, std::string> groups_;  // layer name -> its vars group
};

}  // namespace

std::string snake_case(const std::string& class_name) {
  // Keras: insert "_" before an uppercase letter that starts a capitalised
  // word ("Conv" in "DepthwiseConv2D"), and between a lowercase letter and an
  // uppercase one; then lowercase everything.
  std::string s;
  for (char c : class_name)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') s += c;
  std::string step;
  for (size_t i = 0; i < s.size(); ++i) {
    bool starts_word = i > 0 && std::isupper(static_cast<unsigned char>(s[i])) && i + 1 < s.size() &&
                       std::islower(static_cast<unsigned char>(s[i + 1]));
    if (starts_word) step += '_';
    step += s[i];
  }
  std::string out;
  for (size_t i = 0; i < step.size(); ++i) {
    if (i > 0 && std::islower(static_cast<unsigned char>(step[i - 1])) &&
        std::isupper(static_cast<unsigned char>(step[i])))
      out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(step[i])));
  }
  return out;
}

std::unique_ptr<WeightStore> h5_weight_store(std::shared_ptr<hdf5::File> file) {
  return std::make_unique<H5Store>(std::move(file));
}

std::unique_ptr<WeightStore> keras_zip_weight_store(std::shared_ptr<hdf5::File> file,
                                                    const std::vector<GraphLayer>& layers) {
  return std::make_unique<ZipStore>(std::move(file), layers);
}

}  // namespace nib::formats::keras
