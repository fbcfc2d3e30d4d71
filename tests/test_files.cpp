// Files: whole reads, atomic writes that never leave half a file, directories.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "tests/temp_dir.h"
#include "util/error.h"
#include "util/files.h"

using namespace nib;
using nib::testing::TempDir;

namespace {

// Names in `dir`, to see that no temporary file was left behind.
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("files: write_file_atomic then read_file gives the same bytes, zeros included") {
  TempDir dir;
  std::string bytes("a\0b\xff\n", 5);
  write_file_atomic(dir.file("x.bin"), bytes);
  CHECK(read_file(dir.file("x.bin")) == bytes);
  write_file_atomic(dir.file("empty"), "");
  CHECK(read_file(dir.file("empty")).empty());
}

TEST_CASE("files: write_file_atomic replaces a file and leaves no temporary") {
  TempDir dir;
  write_file_atomic(dir.file("x.txt"), "old contents");
  write_file_atomic(dir.file("x.txt"), "new");
  CHECK(read_file(dir.file("x.txt")) == "new");
  CHECK(listing(dir.path()) == std::vector<std::string>{"x.txt"});
}

TEST_CASE("files: a write interrupted half way keeps the old file whole") {
  TempDir dir;
  write_file_atomic(dir.file("model.bin"), "complete old model");
  auto interrupted = [](const ByteSink& sink) {
    sink("half of the ", 12);
    throw Error("interrupted");
  };
  CHECK_THROWS_WITH_AS(write_file_atomic(dir.file("model.bin"), interrupted), "interrupted", Error);
  CHECK(read_file(dir.file("model.bin")) == "complete old model");
  CHECK(listing(dir.path()) == std::vector<std::string>{"model.bin"});
}

TEST_CASE("files: the streaming writer concatenates the pieces in order") {
  TempDir dir;
  write_file_atomic(dir.file("s"), [](const ByteSink& sink) {
    sink("ab", 2);
    sink("", 0);
    sink("cde", 3);
  });
  CHECK(read_file(dir.file("s")) == "abcde");
}

TEST_CASE("files: errors name the file") {
  TempDir dir;
  std::string missing = dir.file("nope.txt");
  CHECK_THROWS_WITH_AS(read_file(missing), doctest::Contains(missing.c_str()), Error);
  CHECK_THROWS_WITH_AS(read_file(dir.path()), doctest::Contains("is a directory"), Error);
  std::string in_missing_dir = dir.path() + "/no/such/dir/x.txt";  // file() would create the folders
  CHECK_THROWS_WITH_AS(write_file_atomic(in_missing_dir, "x"), doctest::Contains(in_missing_dir.c_str()), Error);
}

TEST_CASE("files: make_dirs creates parents, accepts existing directories, rejects files") {
  TempDir dir;
  std::string nested = dir.file("a/b/c");
  make_dirs(nested);
  CHECK(dir_exists(nested));
  make_dirs(nested);  // again: fine
  write_file_atomic(join_path(nested, "f"), "x");
  CHECK(file_exists(join_path(nested, "f")));
  CHECK_FALSE(file_exists(nested));
  CHECK_FALSE(dir_exists(join_path(nested, "f")));
  CHECK_THROWS_WITH_AS(make_dirs(join_path(nested, "f/g")), doctest::Contains("cannot create directory"), Error);
}

TEST_CASE("files: path helpers") {
  CHECK(parent_dir("runs/mnist/model.safetensors") == "runs/mnist");
  CHECK(parent_dir("model.safetensors") == "");
  CHECK(parent_dir("/model") == "/");
  CHECK(join_path("runs", "x") == "runs/x");
  CHECK(join_path("runs/", "x") == "runs/x");
  CHECK(join_path("", "x") == "x");
}
