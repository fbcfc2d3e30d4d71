#include "train/run_dir.h"

#include "datasets/data_source.h"
#include "util/files.h"
#include "util/json.h"

namespace nib::train {

void save_run_info(const std::string& dir, const RunInfo& info) {
  json::Value v = json::Value::object();
  v["model"] = info.model.name;
  v["in_channels"] = info.model.in_channels;
  v["image_size"] = info.model.image_size;
  v["classes"] = info.model.classes;
  json::Value options = json::Value::object();
  for (const auto& [key, value] : info.model.options) options[key] = value;
  v["options"] = options;
  if (!info.model.graph.is_null()) v["graph"] = info.model.graph;
  json::Value names = json::Value::array();
  for (const auto& name : info.class_names) names.push_back(name);
  v["class_names"] = names;
  v["data"] = info.data;
  v["preprocess"] = info.preprocess;
  v["input"] = info.input.to_json();
  v["command"] = info.command;
  json::Value settings = json::Value::object();
  for (const auto& [key, value] : info.settings) settings[key] = value;
  v["settings"] = settings;
  if (!info.pretrained.empty()) v["pretrained"] = info.pretrained;
  write_file_atomic(dir + "/config.json", json::dump(v, 2) + "\n");
}

RunInfo load_run_info(const std::string& dir) {
  std::string path = dir + "/config.json";
  NIB_CHECK(file_exists(path), path, ": not found (is ", dir, " a run directory written by nib train?)");
  json::Value v = json::parse(read_file(path), path);
  RunInfo info;
  try {
    info.model.name = v.at("model").as_string();
    info.model.in_channels = v.at("in_channels").as_int();
    info.model.image_size = v.at("image_size").as_int();
    info.model.classes = v.at("classes").as_int();
    for (const auto& [key, value] : v.at("options").as_object()) info.model.options[key] = value.as_string();
    if (const json::Value* g = v.find("graph")) info.model.graph = *g;
    for (const auto& name : v.at("class_names").as_array()) info.class_names.push_back(name.as_string());
    info.data = v.at("data").as_string();
    if (const json::Value* p = v.find("preprocess")) info.preprocess = p->as_string();
    if (const json::Value* c = v.find("command")) info.command = c->as_string();
    if (const json::Value* s = v.find("settings"))
      for (const auto& [key, value] : s->as_object()) info.settings[key] = value.as_string();
    if (const json::Value* w = v.find("pretrained")) info.pretrained = w->as_string();
    const json::Value* input = v.find("input");
    info.input = input ? data::InputStyle::from_json(*input) : legacy_input_style(info);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return info;
}

data::InputStyle legacy_input_style(const RunInfo& info) {
  if (info.model.in_channels != 1) return data::InputStyle{};
  const std::string& spec = info.data;
  bool digits = spec == "mnist" || spec.ends_with(".csv") || spec.ends_with(".CSV");
  if (!digits) {
    try {  // a folder of IDX files, if it is still there
      data::DataKind kind = data::detect_data(spec).kind;
      digits = kind == data::DataKind::Mnist || kind == data::DataKind::IdxDir;
    } catch (const Error&) {
    }
  }
  return digits ? data::InputStyle::mnist() : data::InputStyle{};
}

std::string fresh_run_dir(const std::string& base) {
  if (!dir_exists(base)) return base;
  for (int i = 2;; ++i) {
    std::string candidate = base + "-" + std::to_string(i);
    if (!dir_exists(candidate)) return candidate;
  }
}

}  // namespace nib::train
