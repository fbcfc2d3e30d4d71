#include "kernels/registry.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

namespace nib::kernels {

namespace {

bool is_cpu_name(const std::string& name) { return name == "reference" || name == "fast"; }
bool is_cuda_name(const std::string& name) {
  return name == "custom" || name == "library" || name.rfind("gemm_", 0) == 0;
}

struct Selection {
  // Per device: a default for every family, and per-family choices.
  std::string cpu_default = "fast";
  std::string cuda_default = "custom";
  std::map<std::string, std::string> cpu_family, cuda_family;
  std::map<std::string, std::string> overrides;  // scoped kernels::Use
  std::map<std::pair<std::string, int>, std::string> last;
  bool allow_tf32 = false;
};

std::mutex g_mutex;

Selection& selection() {
  static Selection sel;
  return sel;
}

void apply_spec(Selection& sel, const std::string& spec) {
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    if (item == "tf32") {  // reduced precision allowed: TF32 tensor cores in GEMM, cuBLAS and cuDNN
      sel.allow_tf32 = true;
      continue;
    }
    auto eq = item.find('=');
    std::string family = eq == std::string::npos ? "" : item.substr(0, eq);
    std::string name = eq == std::string::npos ? item : item.substr(eq + 1);
    NIB_CHECK(is_cpu_name(name) || is_cuda_name(name), "kernel selection '", item,
              "': unknown implementation '", name, "' (expected reference, fast, custom, library or tf32)");
    bool cpu = is_cpu_name(name);
    if (family.empty())
      (cpu ? sel.cpu_default : sel.cuda_default) = name;
    else
      (cpu ? sel.cpu_family : sel.cuda_family)[family] = name;
  }
}

std::once_flag g_env_once;

void load_environment() {
  std::call_once(g_env_once, [] {
    if (const char* env = std::getenv("NIB_KERNELS")) apply_spec(selection(), env);
  });
}

}  // namespace

int choose(const std::string& family, DeviceType device, const std::vector<std::string>& names) {
  if (names.empty()) return -1;
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  Selection& sel = selection();
  auto index_of = [&](const std::string& want) -> int {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == want) return static_cast<int>(i);
    return -1;
  };
  bool cpu = device == DeviceType::CPU;
  std::vector<std::string> preferences;
  if (auto it = sel.overrides.find(family); it != sel.overrides.end()) preferences.push_back(it->second);
  auto& per_family = cpu ? sel.cpu_family : sel.cuda_family;
  if (auto it = per_family.find(family); it != per_family.end()) preferences.push_back(it->second);
  preferences.push_back(cpu ? sel.cpu_default : sel.cuda_default);
  preferences.push_back(cpu ? "fast" : "custom");
  for (const std::string& want : preferences)
    if (int i = index_of(want); i >= 0) return i;
  return 0;
}

void configure(const std::string& spec) {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  Selection fresh = selection();
  apply_spec(fresh, spec);  // validate completely before changing anything
  selection() = fresh;
}

std::string describe() {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  const Selection& sel = selection();
  std::ostringstream out;
  out << "cpu: " << sel.cpu_default;
  for (const auto& [family, name] : sel.cpu_family) out << ", " << family << "=" << name;
  out << "; cuda: " << sel.cuda_default;
  for (const auto& [family, name] : sel.cuda_family) out << ", " << family << "=" << name;
  if (sel.allow_tf32) out << " (tf32 allowed)";
  return out.str();
}

void set_allow_tf32(bool allow) {
  std::lock_guard<std::mutex> lock(g_mutex);
  selection().allow_tf32 = allow;
}

bool allow_tf32() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return selection().allow_tf32;
}

Use::Use(std::string family, std::string impl) : family_(std::move(family)) {
  std::lock_guard<std::mutex> lock(g_mutex);
  selection().overrides[family_] = std::move(impl);
}

Use::~Use() {
  std::lock_guard<std::mutex> lock(g_mutex);
  selection().overrides.erase(family_);
}

std::string last_chosen(const std::string& family, DeviceType device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const auto& last = selection().last;
  auto it = last.find({family, static_cast<int>(device)});
  return it == last.end() ? "" : it->second;
}

void note_chosen(const std::string& family, DeviceType device, const std::string& impl) {
  std::lock_guard<std::mutex> lock(g_mutex);
  selection().last[{family, static_cast<int>(device)}] = impl;
}

}  // namespace nib::kernels
