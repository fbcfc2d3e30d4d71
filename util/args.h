// Command-line options for nib's subcommands: `--name value`, `--name=value`,
// boolean `--flag`s (declared up front, so `--json photo.jpg` is not read as
// --json=photo.jpg) and positional arguments. Every option a command does not
// read is reported as unknown by finish(), so typos never pass silently.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace nib {

// Flags of the runtime that every command which runs kernels reads
// (kernels::apply_runtime_flags): --trace prints the kernels chosen.
inline const std::set<std::string> kRuntimeFlags = {"trace"};

class Args {
 public:
  // argv[first..argc) are parsed; `flags` are the options that take no value.
  Args(int argc, char** argv, int first, std::set<std::string> flags);
  Args(std::vector<std::string> words, std::set<std::string> flags);  // for tests

  bool has(const std::string& name) const;
  bool flag(const std::string& name);  // true when --name was given
  std::string get(const std::string& name, const std::string& fallback);
  std::string require(const std::string& name);  // error naming the option when missing
  int64_t get_int(const std::string& name, int64_t fallback);
  double get_double(const std::string& name, double fallback);
  const std::vector<std::string>& positional() const { return positional_; }

  // Throws nib::Error naming the first option nobody asked for.
  void finish() const;

 private:
  void parse(const std::vector<std::string>& words);
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::set<std::string> given_flags_;
  mutable std::set<std::string> used_;
  std::vector<std::string> positional_;
};

}  // namespace nib
