#include "util/args.h"

#include <cstdlib>

#include "util/error.h"

namespace nib {

Args::Args(int argc, char** argv, int first, std::set<std::string> flags) : flags_(std::move(flags)) {
  std::vector<std::string> words;
  for (int i = first; i < argc; ++i) words.emplace_back(argv[i]);
  parse(words);
}

Args::Args(std::vector<std::string> words, std::set<std::string> flags) : flags_(std::move(flags)) { parse(words); }

void Args::parse(const std::vector<std::string>& words) {
  flags_.insert(kRuntimeFlags.begin(), kRuntimeFlags.end());
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("--", 0) != 0 || w.size() == 2) {
      positional_.push_back(w);
      continue;
    }
    std::string name = w.substr(2);
    std::string value;
    auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      NIB_CHECK(!flags_.count(name), "option --", name, " takes no value");
    } else if (flags_.count(name)) {
      given_flags_.insert(name);
      continue;
    } else {
      NIB_CHECK(i + 1 < words.size(), "option --", name, " needs a value");
      value = words[++i];
    }
    NIB_CHECK(!values_.count(name), "option --", name, " given twice");
    values_[name] = value;
  }
}

bool Args::has(const std::string& name) const { return values_.count(name) || given_flags_.count(name); }

bool Args::flag(const std::string& name) {
  used_.insert(name);
  return given_flags_.count(name) > 0;
}

std::string Args::get(const std::string& name, const std::string& fallback) {
  used_.insert(name);
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::string Args::require(const std::string& name) {
  used_.insert(name);
  auto it = values_.find(name);
  NIB_CHECK(it != values_.end(), "missing required option --", name);
  return it->second;
}

int64_t Args::get_int(const std::string& name, int64_t fallback) {
  std::string text = get(name, "");
  if (text.empty()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  NIB_CHECK(end && *end == '\0', "option --", name, " expects an integer, got '", text, "'");
  return v;
}

double Args::get_double(const std::string& name, double fallback) {
  std::string text = get(name, "");
  if (text.empty()) return fallback;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  NIB_CHECK(end && *end == '\0', "option --", name, " expects a number, got '", text, "'");
  return v;
}

void Args::finish() const {
  for (const auto& [name, value] : values_)
    NIB_CHECK(used_.count(name), "unknown option --", name);
  for (const auto& name : given_flags_)
    NIB_CHECK(used_.count(name), "unknown option --", name);
}

}  // namespace nib
