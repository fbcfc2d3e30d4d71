#include "datasets/gz_reader.h"

#include <algorithm>

#include "util/error.h"

namespace nib::data {

GzReader::GzReader(std::string path) : path_(std::move(path)) {
  file_ = gzopen(path_.c_str(), "rb");
  NIB_CHECK(file_ != nullptr, "cannot open '", path_, "' (missing file or no permission)");
  gzbuffer(file_, 1 << 15);  // 4x zlib's default; larger buffers cost an mmap per file under ASan, and gain nothing
}

GzReader::~GzReader() {
  if (file_) gzclose(file_);
}

size_t GzReader::read(void* out, size_t bytes) {
  size_t done = 0;
  char* dst = static_cast<char*>(out);
  while (done < bytes) {  // gzread takes an unsigned int, so read big requests in pieces
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes - done, 1u << 30));
    int n = gzread(file_, dst + done, chunk);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  // zlib reports a compressed stream that stops early as Z_BUF_ERROR
  // ("unexpected end of file") and damaged data as Z_DATA_ERROR.
  int code = Z_OK;
  const char* message = gzerror(file_, &code);
  if (code == Z_BUF_ERROR) fail("'", path_, "' is truncated: the gzip stream ends early (", message, ")");
  if (code != Z_OK) fail("'", path_, "' is corrupt: ", message ? message : "zlib error");
  return done;
}

void GzReader::read_exact(void* out, size_t bytes, const std::string& what) {
  size_t got = read(out, bytes);
  NIB_CHECK(got == bytes, "'", path_, "' is truncated: ", what, " needs ", bytes, " bytes but only ", got,
            " are left in the file");
}

uint32_t GzReader::read_u32_be(const std::string& what) {
  unsigned char b[4];
  read_exact(b, 4, what);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

bool GzReader::at_end() {
  char probe;
  return read(&probe, 1) == 0;
}

}  // namespace nib::data
