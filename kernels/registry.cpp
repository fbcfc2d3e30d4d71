#include "kernels/registry.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

namespace nib::kernels {

namespace {

constexpr int kDevices = 2;
int slot(DeviceType device) { return static_cast<int>(device); }
const char* device_name(DeviceType device) { return device == DeviceType::CPU ? "cpu" : "cuda"; }

// What the ImplTables registered: family -> names, per device.
struct Registry {
  std::map<std::string, std::set<std::string>> names[kDevices];
  std::set<std::string> families;
};

// What runs where nothing else was asked for.
const char* const kBuiltInDefault[kDevices] = {"fast", "cuda"};

// What the user asked for, per device: whole-device defaults (the first one
// a family has wins: "cudnn,cublas" sends conv2d to cuDNN and gemm to
// cuBLAS), choices per family, and the scoped overrides of kernels::Use.
struct Selection {
  std::vector<std::string> defaults[kDevices];
  std::map<std::string, std::string> family[kDevices];
  std::map<std::string, std::string> overrides[kDevices];
  bool allow_tf32 = false;
};

std::mutex g_mutex;  // guards everything below
std::atomic<uint64_t> g_version{1};
std::atomic<bool> g_trace{false};

Registry& registry() {
  static Registry r;
  return r;
}
Selection& selection() {
  static Selection s;
  return s;
}
std::map<std::pair<std::string, int>, std::string>& last() {
  static std::map<std::pair<std::string, int>, std::string> m;
  return m;
}

void changed() { g_version.fetch_add(1, std::memory_order_acq_rel); }

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The device whose families have an implementation called `name` (-1: none).
int device_of(const Registry& r, const std::string& name) {
  for (int d = 0; d < kDevices; ++d)
    for (const auto& entry : r.names[d])
      if (entry.second.count(name)) return d;
  return -1;
}

std::set<std::string> all_names(const Registry& r) {
  std::set<std::string> names;
  for (int d = 0; d < kDevices; ++d)
    for (const auto& entry : r.names[d]) names.insert(entry.second.begin(), entry.second.end());
  return names;
}

// Checks `family` and `name` against what is registered and returns the
// device the name belongs to. `what` names the request in the error.
int validate(const Registry& r, const std::string& family, const std::string& name, const std::string& what) {
  if (family.empty()) {
    int device = device_of(r, name);
    NIB_CHECK(device >= 0, what, ": no op family has an implementation '", name,
              "' in this build; implementations: ", join(all_names(r)), ", and the item tf32");
    return device;
  }
  NIB_CHECK(r.families.count(family), what, ": unknown op family '", family, "'; families: ", join(r.families));
  std::set<std::string> of_family;
  for (int d = 0; d < kDevices; ++d) {
    auto it = r.names[d].find(family);
    if (it == r.names[d].end()) continue;
    if (it->second.count(name)) return d;
    of_family.insert(it->second.begin(), it->second.end());
  }
  fail(what, ": op family '", family, "' has no implementation '", name, "' in this build; it has: ", join(of_family));
}

void apply_spec(const Registry& r, Selection& sel, const std::string& spec, const std::string& source) {
  std::stringstream items(spec);
  std::string item;
  std::vector<std::string> defaults[kDevices];  // the spec's whole-device items, in order
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    if (item == "tf32") {  // reduced precision allowed: TF32 tensor cores in GEMM, cuBLAS and cuDNN
      sel.allow_tf32 = true;
      continue;
    }
    auto eq = item.find('=');
    std::string family = eq == std::string::npos ? "" : item.substr(0, eq);
    std::string name = eq == std::string::npos ? item : item.substr(eq + 1);
    int device = validate(r, family, name, source + " '" + item + "'");
    if (family.empty())
      defaults[device].push_back(name);
    else
      sel.family[device][family] = name;
  }
  // A spec's whole-device items replace the earlier ones.
  for (int d = 0; d < kDevices; ++d)
    if (!defaults[d].empty()) sel.defaults[d] = defaults[d];
}

std::once_flag g_env_once;

// NIB_KERNELS is read on first use of the selection, after every ImplTable
// has registered (they are static objects).
void load_environment() {
  std::call_once(g_env_once, [] {
    if (const char* env = std::getenv("NIB_KERNELS")) {
      std::lock_guard<std::mutex> lock(g_mutex);
      apply_spec(registry(), selection(), env, "NIB_KERNELS");
      changed();
    }
    if (const char* env = std::getenv("NIB_TRACE"); env && *env && std::string(env) != "0") g_trace = true;
  });
}

}  // namespace

void register_impl(const std::string& family, DeviceType device, const std::string& name) {
  std::lock_guard<std::mutex> lock(g_mutex);
  registry().families.insert(family);
  registry().names[slot(device)][family].insert(name);
}

uint64_t selection_version() {
  load_environment();
  return g_version.load(std::memory_order_acquire);
}

int choose(const std::string& family, DeviceType device, const std::vector<std::string>& names) {
  if (names.empty()) return -1;
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  const Selection& sel = selection();
  const int d = slot(device);
  auto index_of = [&](const std::string& want) -> int {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == want) return static_cast<int>(i);
    return -1;
  };
  std::vector<std::string> preferences;
  if (auto it = sel.overrides[d].find(family); it != sel.overrides[d].end()) preferences.push_back(it->second);
  if (auto it = sel.family[d].find(family); it != sel.family[d].end()) preferences.push_back(it->second);
  preferences.insert(preferences.end(), sel.defaults[d].begin(), sel.defaults[d].end());
  preferences.push_back(kBuiltInDefault[d]);
  int chosen = 0;  // the first listed, where a family has none of the preferences
  for (const std::string& want : preferences)
    if (int i = index_of(want); i >= 0) {
      chosen = i;
      break;
    }
  last()[{family, d}] = names[chosen];
  return chosen;
}

void configure(const std::string& spec) {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  Selection fresh = selection();
  apply_spec(registry(), fresh, spec, "kernel selection");  // validate completely before changing anything
  selection() = fresh;
  changed();
}

void reset() {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  Selection fresh;
  for (int d = 0; d < kDevices; ++d) fresh.overrides[d] = selection().overrides[d];
  selection() = fresh;
  last().clear();
  changed();
}

std::string describe() {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  const Selection& sel = selection();
  std::ostringstream out;
  for (int d = 0; d < kDevices; ++d) {
    out << (d ? "; " : "") << device_name(static_cast<DeviceType>(d)) << ":";
    const std::vector<std::string> defaults =
        sel.defaults[d].empty() ? std::vector<std::string>{kBuiltInDefault[d]} : sel.defaults[d];
    for (size_t i = 0; i < defaults.size(); ++i) out << (i ? "," : " ") << defaults[i];
    for (const auto& [family, name] : sel.family[d]) out << ", " << family << "=" << name;
  }
  if (sel.allow_tf32) out << " (tf32 allowed)";
  return out.str();
}

void set_allow_tf32(bool allow) {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  selection().allow_tf32 = allow;
  changed();
}

bool allow_tf32() {
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  return selection().allow_tf32;
}

void set_trace(bool on) {
  load_environment();
  g_trace = on;
}

bool tracing() { return g_trace.load(std::memory_order_relaxed); }

void trace(const std::string& family, DeviceType device, const std::string& impl, const std::string& shapes) {
  static std::mutex mutex;
  static std::set<std::tuple<std::string, int, std::string, std::string>> printed;
  std::lock_guard<std::mutex> lock(mutex);
  if (!printed.insert({family, slot(device), impl, shapes}).second) return;
  std::fprintf(stderr, "nib trace: %s on %s runs %s%s%s\n", family.c_str(), device_name(device), impl.c_str(),
               shapes.empty() ? "" : ": ", shapes.c_str());
}

Use::Use(std::string family, std::string impl) : family_(std::move(family)) {
  NIB_CHECK(!family_.empty(), "kernels::Use: name an op family");
  load_environment();
  std::lock_guard<std::mutex> lock(g_mutex);
  device_ = static_cast<DeviceType>(validate(registry(), family_, impl, "kernels::Use"));
  selection().overrides[slot(device_)][family_] = std::move(impl);
  changed();
}

Use::~Use() {
  std::lock_guard<std::mutex> lock(g_mutex);
  selection().overrides[slot(device_)].erase(family_);
  changed();
}

bool has_impl(const std::string& family, const std::string& impl) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (int d = 0; d < kDevices; ++d) {
    auto it = registry().names[d].find(family);
    if (it != registry().names[d].end() && it->second.count(impl)) return true;
  }
  return false;
}

std::string last_chosen(const std::string& family, DeviceType device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = last().find({family, slot(device)});
  return it == last().end() ? "" : it->second;
}

}  // namespace nib::kernels
