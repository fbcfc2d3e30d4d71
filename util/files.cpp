#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace nib {

namespace {

std::string reason() { return std::strerror(errno); }

// Writes all of `size` bytes, continuing after partial writes and signals.
void write_all(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write ", path, ": ", reason());
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// Flushes the directory entry too, so the rename itself survives a power cut.
// Best effort: some file systems do not support syncing a directory.
void sync_directory(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string read_file(const std::string& path) {
  NIB_CHECK(!dir_exists(path), "cannot read ", path, ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  NIB_CHECK(in, "cannot open ", path, ": ", reason());
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  NIB_CHECK(!in.bad(), "cannot read ", path, ": ", reason());
  return bytes;
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

void write_file_atomic(const std::string& path, const std::function<void(const ByteSink&)>& produce) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  NIB_CHECK(fd >= 0, "cannot create ", tmp, " (to write ", path, "): ", reason());
  try {
    produce([&](const void* data, size_t size) { write_all(fd, data, size, tmp); });
    NIB_CHECK(::fsync(fd) == 0, "cannot flush ", tmp, " to disk: ", reason());
    int closed = ::close(fd);
    fd = -1;
    NIB_CHECK(closed == 0, "cannot close ", tmp, ": ", reason());
    NIB_CHECK(::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp, " to ", path, ": ", reason());
  } catch (...) {
    // Whatever failed (including `produce` itself), leave no temporary behind
    // and the old file untouched.
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  sync_directory(parent_dir(path));
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

bool dir_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

void make_dirs(const std::string& path) {
  if (path.empty() || dir_exists(path)) return;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  NIB_CHECK(!ec, "cannot create directory ", path, ": ", ec.message());
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace nib
