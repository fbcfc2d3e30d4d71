#include "apps/run_settings.h"

#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace nib::apps {

RunSettings::RunSettings(Args& args, std::map<std::string, std::string> previous)
    : args_(args), previous_(std::move(previous)) {}

std::string RunSettings::text(const std::string& name, const std::string& fallback) {
  if (args_.has(name)) return settings_[name] = args_.get(name, fallback);
  auto it = previous_.find(name);
  return settings_[name] = it != previous_.end() ? it->second : fallback;
}

double RunSettings::number(const std::string& name, const std::string& fallback) {
  std::string value = text(name, fallback);
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  NIB_CHECK(!value.empty() && end && *end == '\0', "--", name, " expects a number, got '", value, "'");
  return v;
}

int64_t RunSettings::integer(const std::string& name, const std::string& fallback) {
  double v = number(name, fallback);
  NIB_CHECK(v == std::floor(v), "--", name, " expects a whole number, got '", settings_[name], "'");
  return static_cast<int64_t>(v);
}

bool RunSettings::flag(const std::string& name) {
  bool on = args_.flag(name);
  if (!on) {
    auto it = previous_.find(name);
    on = it != previous_.end() && it->second == "true";
  }
  settings_[name] = on ? "true" : "false";
  return on;
}

}  // namespace nib::apps
