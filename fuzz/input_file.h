// Most of nib's readers take a path, so a target writes its input to a file
// first and reads it back the way nib does. The file lives in /dev/shm when
// there is one (no disk writes at tens of thousands of inputs a second) and
// is reused for every input of the process.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <filesystem>
#include <string>

#include "util/error.h"

namespace nib::fuzz {

// A folder of this process's own, removed when the process exits normally.
class ScratchDir {
 public:
  ScratchDir() {
    std::filesystem::path base = std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                           : std::filesystem::temp_directory_path();
    path_ = (base / ("nib-fuzz-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline const std::string& scratch_dir() {
  static const ScratchDir dir;
  return dir.path();
}

class InputFile {
 public:
  // Writes the input to <scratch>/<name> (name may include a folder: "run/config.json").
  InputFile(const std::string& name, const uint8_t* data, size_t size) : path_(scratch_dir() + "/" + name) {
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) throw std::runtime_error("fuzz: cannot write " + path_);  // not a nib::Error: a broken harness must show
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nib::fuzz
