// Files: whole-file reads, atomic writes, directories.
//
// Writes that must never leave a half-written file behind (checkpoints,
// summaries) go through write_file_atomic: the bytes go to a temporary file
// next to the target (path.tmp.<pid>), which is flushed to disk (fsync) and
// then renamed over the target. rename() within one directory is atomic, so a
// reader — or a run resumed after a crash or Ctrl-C — sees either the old file
// or the complete new one.
//
// Every failure throws nib::Error naming the file and the reason (strerror).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace nib {

// The whole file as bytes.
std::string read_file(const std::string& path);

// Replaces `path` with `bytes` atomically (see above).
void write_file_atomic(const std::string& path, std::string_view bytes);

// The same, for output too large to build in memory first: `produce` is
// called once and passes its bytes, in order, to the sink it is given.
using ByteSink = std::function<void(const void* data, size_t size)>;
void write_file_atomic(const std::string& path, const std::function<void(const ByteSink&)>& produce);

bool file_exists(const std::string& path);  // a regular file (or a link to one)
bool dir_exists(const std::string& path);
// Creates the directory and any missing parents; an existing directory is fine.
void make_dirs(const std::string& path);

// "runs/mnist/model.safetensors" -> "runs/mnist"; "model.safetensors" -> "".
std::string parent_dir(const std::string& path);
// Joins with one '/': join_path("runs/", "x") == join_path("runs", "x") == "runs/x".
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace nib
