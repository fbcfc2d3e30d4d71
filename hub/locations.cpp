#include "hub/locations.h"

#include <cstdlib>
#include <filesystem>

#include "util/error.h"
#include "util/files.h"

namespace fs = std::filesystem;

namespace nib::hub {

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// <start>/shared/data, <start>/../shared/data, ... up to four levels up.
std::string search_upwards(fs::path start) {
  for (int level = 0; level <= 4 && !start.empty(); ++level) {
    fs::path candidate = start / "shared" / "data";
    if (dir_exists(candidate.string())) return fs::weakly_canonical(candidate).string();
    if (start == start.parent_path()) break;
    start = start.parent_path();
  }
  return "";
}

}  // namespace

std::string data_dir() {
  if (std::string dir = env("NIB_DATA"); !dir.empty()) {
    NIB_CHECK(dir_exists(dir), "NIB_DATA is set to '", dir, "', which is not a directory");
    return dir;
  }
  std::error_code ec;
  if (std::string found = search_upwards(fs::current_path(ec)); !found.empty()) return found;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) return search_upwards(exe.parent_path());
  return "";
}

std::string nib_home() {
  if (std::string home = env("NIB_HOME"); !home.empty()) return home;
  if (std::string cache = env("XDG_CACHE_HOME"); !cache.empty()) return join_path(cache, "nib");
  std::string home = env("HOME");
  NIB_CHECK(!home.empty(), "neither NIB_HOME nor HOME is set, so nib has no cache folder for downloads: "
            "set NIB_HOME to a writable folder");
  return join_path(home, ".cache/nib");
}

std::vector<std::string> search_roots() {
  std::vector<std::string> roots;
  if (std::string dir = data_dir(); !dir.empty()) roots.push_back(dir);
  roots.push_back(nib_home());
  return roots;
}

std::string source_url(const KnownFile& file) {
  std::string mirror = env("NIB_MIRROR");
  if (mirror.empty()) return file.url;
  while (!mirror.empty() && mirror.back() == '/') mirror.pop_back();
  return mirror + "/" + file.path;
}

}  // namespace nib::hub
