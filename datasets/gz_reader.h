// Reads a file that may or may not be gzip-compressed: zlib's gzopen/gzread
// pass plain files through unchanged, so one reader serves both
// `train-images-idx3-ubyte` and `train-images-idx3-ubyte.gz`.
// Every error names the file.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>

namespace nib::data {

class GzReader {
 public:
  explicit GzReader(std::string path);
  ~GzReader();
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `bytes`; returns how many were read (fewer only at the end of
  // the data). A corrupt compressed stream is an error.
  size_t read(void* out, size_t bytes);
  // Reads exactly `bytes` or fails with "<file>: <what>: expected N bytes, the file ends after M".
  void read_exact(void* out, size_t bytes, const std::string& what);
  // A big-endian 32-bit integer, as IDX headers store them.
  uint32_t read_u32_be(const std::string& what);
  // True when no data is left.
  bool at_end();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

}  // namespace nib::data
