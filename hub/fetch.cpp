#include "hub/fetch.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "hub/locations.h"
#include "util/error.h"
#include "util/files.h"
#include "util/http_get.h"
#include "util/progress.h"
#include "util/sha256.h"

namespace nib::hub {

namespace {

int download_timeout_seconds() {
  const char* text = std::getenv("NIB_DOWNLOAD_TIMEOUT");
  if (!text || !*text) return 30;
  char* end = nullptr;
  long seconds = std::strtol(text, &end, 10);
  NIB_CHECK(*end == '\0' && seconds > 0 && seconds <= 86400, "NIB_DOWNLOAD_TIMEOUT must be a number of seconds (1 ",
            "to 86400), not '", text, "'");
  return static_cast<int>(seconds);
}

// A download killed outright (Ctrl-C, kill -9) leaves its temporary file
// <dest>.tmp.<pid> behind; remove those of processes that no longer run.
void remove_stale_temporaries(const std::string& dest) {
  namespace fs = std::filesystem;
  std::string prefix = fs::path(dest).filename().string() + ".tmp.";
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(parent_dir(dest), ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

// Draws the progress bar once the size is known (from the catalog, else from
// the server's Content-Length).
class DownloadProgress {
 public:
  DownloadProgress(std::string label, int64_t expected) : label_(std::move(label)), expected_(expected) {}
  void update(int64_t received, int64_t announced) {
    int64_t total = expected_ > 0 ? expected_ : announced;
    if (!bar_ && total > 0 && received > 0)  // no bar for a download that never starts
      bar_ = std::make_unique<ProgressBar>(total, label_, ProgressUnit::Bytes, stderr);
    if (bar_ && received <= total) bar_->update(received, received, {});
  }
  void finish(int64_t received) {
    if (bar_) bar_->finish({}, received);
  }
  // After a failure: end a half-drawn bar's line so the error starts on its own.
  void abandon() {
    if (bar_ && isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  }

 private:
  std::string label_;
  int64_t expected_;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace

std::string why_no_downloads() {
  if (!http_available()) return "nib was built without libcurl (Debian: libcurl4-openssl-dev; install it and rebuild)";
  if (!sha256_available()) return "nib was built without OpenSSL (Debian: libssl-dev; install it and rebuild)";
  return "";
}

std::string locate_file(const KnownFile& file) {
  for (const std::string& root : search_roots())
    if (std::string path = join_path(root, file.path); file_exists(path)) return path;
  return "";
}

std::string download_file(const KnownFile& file) {
  const std::string dest = join_path(nib_home(), file.path);
  const std::string url = source_url(file);
  const std::string by_hand = str("; nothing was saved. Put the file at ", dest, " by hand (SHA-256 ", file.sha256,
                                  "), or set NIB_MIRROR to a server that has ", file.path);
  if (std::string why = why_no_downloads(); !why.empty()) fail("cannot download ", url, ": ", why, by_hand);
  HttpGetOptions options;
  try {
    options.timeout_seconds = download_timeout_seconds();
    make_dirs(parent_dir(dest));
    remove_stale_temporaries(dest);
  } catch (const Error& e) {
    fail("cannot download ", url, ": ", e.what());
  }

  std::fprintf(stderr, "nib: downloading %s%s\n", url.c_str(),
               file.bytes > 0 ? (" (" + format_bytes(file.bytes) + ")").c_str() : "");
  DownloadProgress progress(file.name(), file.bytes);
  options.progress = [&](int64_t received, int64_t announced) { progress.update(received, announced); };
  int64_t received = 0;
  try {
    write_file_atomic(dest, [&](const ByteSink& save) {
      Sha256 digest;
      http_get(url, [&](const void* data, size_t size) {
        save(data, size);
        digest.update(data, size);
        received += static_cast<int64_t>(size);
      }, options);
      NIB_CHECK(file.bytes == 0 || received == file.bytes, url, ": received ", received,
                " bytes, but the published file has ", file.bytes, " (the transfer was cut short or the file differs)");
      std::string actual = digest.hex();
      NIB_CHECK(actual == file.sha256, url, ": the file's SHA-256 is ", actual, ", not the published ", file.sha256,
                " (a damaged or different file)");
    });
  } catch (const Error& e) {
    progress.abandon();
    std::string what = e.what();  // the URL's failures name it; a full disk or a missing OpenSSL does not
    fail(what.rfind(url, 0) == 0 ? what : "cannot download " + url + ": " + what, by_hand);
  }
  progress.finish(received);
  std::fprintf(stderr, "nib: saved %s (%s, SHA-256 checked)\n", dest.c_str(), format_bytes(received).c_str());
  return dest;
}

std::string ensure_file(const KnownFile& file) {
  std::string found = locate_file(file);
  return found.empty() ? download_file(file) : found;
}

std::string locate_item(const KnownItem& item) {
  for (const std::string& root : search_roots()) {
    bool complete = true;
    for (const KnownFile& file : item.files) complete = complete && file_exists(join_path(root, file.path));
    if (complete) return join_path(root, item.folder());
  }
  return "";
}

std::string ensure_item(const KnownItem& item) {
  if (std::string found = locate_item(item); !found.empty()) return found;
  const std::string cache = nib_home();
  std::vector<const KnownFile*> missing;
  int64_t bytes = 0;
  for (const KnownFile& file : item.files) {
    if (file_exists(join_path(cache, file.path))) continue;
    missing.push_back(&file);
    bytes = file.bytes > 0 && bytes >= 0 ? bytes + file.bytes : -1;
  }
  std::fprintf(stderr, "nib: %s is not in the data dir or the cache yet; downloading %zu file%s%s into %s\n", item.name.c_str(),
               missing.size(), missing.size() == 1 ? "" : "s", bytes > 0 ? (", " + format_bytes(bytes) + ",").c_str() : "",
               join_path(cache, item.folder()).c_str());
  for (const KnownFile* file : missing) download_file(*file);
  return join_path(cache, item.folder());
}

}  // namespace nib::hub
