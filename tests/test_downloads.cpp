// Downloads (hub/): every way a download can go wrong, reproduced offline by a
// server on 127.0.0.1 that the tests start themselves (tests/http_test_server.h),
// reached through NIB_MIRROR, into a fresh NIB_HOME per test.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "datasets/data_source.h"
#include "formats/safetensors.h"
#include "hub/fetch.h"
#include "hub/locations.h"
#include "models/imagenet_weights.h"
#include "models/pretrained.h"
#include "tests/helpers.h"
#include "tests/http_test_server.h"
#include "tests/shared_data.h"
#include "tests/temp_dir.h"
#include "util/files.h"
#include "util/http_get.h"
#include "util/sha256.h"

using namespace nib;
using nib::testing::error_of;
using nib::testing::HttpResponse;
using nib::testing::HttpTestServer;
using nib::testing::TempDir;

namespace {

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A fresh machine: an empty cache, an empty data dir (so the checkout's
// shared/data is out of sight), downloads from `mirror`, a 1 s timeout.
struct FreshMachine {
  TempDir home, data;
  ScopedEnv nib_home, nib_data, mirror, timeout;
  explicit FreshMachine(const std::string& mirror_url)
      : nib_home("NIB_HOME", home.path()),
        nib_data("NIB_DATA", data.path()),
        mirror("NIB_MIRROR", mirror_url),
        timeout("NIB_DOWNLOAD_TIMEOUT", "1") {}
};

std::string sha256_of(const std::string& bytes) {
  Sha256 digest;
  digest.update(bytes.data(), bytes.size());
  return digest.hex();
}

// 300 kB of varied bytes: several network reads, and a flipped byte anywhere changes the digest.
std::string payload() {
  std::string bytes(300000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7919) >> 3);
  return bytes;
}

// A file as the catalog describes one, published at an address that does not
// exist (only NIB_MIRROR can reach it), with its true size and digest.
hub::KnownFile test_file(const std::string& bytes) {
  return {"test/payload.bin", "http://publisher.invalid/payload.bin", static_cast<int64_t>(bytes.size()),
          sha256_of(bytes)};
}

// Everything in a folder, recursively (to prove nothing half-written stayed).
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec))
    if (entry.is_regular_file()) out.push_back(entry.path().string());
  return out;
}

// A URL where nothing listens: a port the kernel gave a socket that is then closed.
std::string closed_port_url() {
  std::string url;
  { HttpTestServer gone; url = gone.url(); }
  return url;
}

const bool kCanDownload = hub::why_no_downloads().empty();

const bool kHaveRealMnist = testing::has_shared_data("mnist/train-images-idx3-ubyte.gz");
const bool kHaveRealClassIndex = testing::has_shared_data("imagenet/imagenet_class_index.json");

}  // namespace

TEST_CASE("downloads: SHA-256 digests are OpenSSL's, matching the standard's test vectors" *
          doctest::skip(!sha256_available())) {
  CHECK(sha256_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  TempDir dir;
  testing::write_text(dir.file("abc.txt"), "abc");
  CHECK(sha256_of_file(dir.file("abc.txt")) == sha256_of("abc"));
}

TEST_CASE("downloads: a good download is checked, saved where the cache keeps it, and then found without the network" *
          doctest::skip(!kCanDownload)) {
  HttpTestServer server;
  std::string bytes = payload();
  server.serve("/test/payload.bin", {.body = bytes});
  FreshMachine machine(server.url());
  hub::KnownFile file = test_file(bytes);

  std::string path = hub::ensure_file(file);
  CHECK(path == machine.home.path() + "/test/payload.bin");
  CHECK(read_file(path) == bytes);
  CHECK(files_in(machine.home.path()) == std::vector<std::string>{path});  // no temporary left beside it
  CHECK(server.requests() == 1);

  // Cached: no request, not even to a server that is there.
  CHECK(hub::ensure_file(file) == path);
  CHECK(server.requests() == 1);
  // ... nor when there is no server at all.
  ScopedEnv nowhere("NIB_MIRROR", closed_port_url());
  CHECK(hub::ensure_file(file) == path);
}

TEST_CASE("downloads: a file in the data dir is used as it is, before the cache" * doctest::skip(!kCanDownload)) {
  FreshMachine machine(closed_port_url());
  std::string bytes = payload();
  testing::write_text(machine.data.file("test/payload.bin"), bytes);
  CHECK(hub::ensure_file(test_file(bytes)) == machine.data.path() + "/test/payload.bin");
  CHECK(files_in(machine.home.path()).empty());
}

TEST_CASE("downloads: every failure is one error naming the URL and where to put the file, with nothing cached" *
          doctest::skip(!kCanDownload)) {
  HttpTestServer server;
  FreshMachine machine(server.url());
  std::string bytes = payload();
  hub::KnownFile file = test_file(bytes);
  const std::string url = server.url() + "/test/payload.bin";
  const std::string dest = machine.home.path() + "/test/payload.bin";

  auto expect_failure = [&](const std::string& what, const HttpResponse& response, const std::string& reason) {
    CAPTURE(what);
    server.serve("/test/payload.bin", response);
    std::string error = error_of([&] { hub::ensure_file(file); });
    CHECK(error.find(url) != std::string::npos);
    CHECK(error.find(reason) != std::string::npos);
    CHECK(error.find("nothing was saved. Put the file at " + dest + " by hand (SHA-256 " + file.sha256) !=
          std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
    CHECK(files_in(machine.home.path()).empty());
  };

  std::string corrupted = bytes;
  corrupted[123456] ^= 1;
  expect_failure("a corrupted file", {.body = corrupted}, "SHA-256 is " + sha256_of(corrupted) + ", not the published");
  expect_failure("a truncated transfer", {.body = bytes, .send_bytes = bytes.size() / 2}, "cut short");
  expect_failure("a missing file", {.status = 404, .body = "no such file"}, "HTTP 404");
  expect_failure("a server error", {.status = 500, .body = "oops"}, "HTTP 500");
  expect_failure("a file of another size", {.body = bytes + "extra"}, "but the published file has 300000");

  auto start = std::chrono::steady_clock::now();
  expect_failure("a stalled server", {.body = bytes, .send_bytes = 1000, .stall = true}, "timed out");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 4);  // NIB_DOWNLOAD_TIMEOUT=1 (the default is 30)

  ScopedEnv nowhere("NIB_MIRROR", closed_port_url());
  std::string error = error_of([&] { hub::ensure_file(file); });
  CHECK(error.find("cannot connect") != std::string::npos);
  CHECK(files_in(machine.home.path()).empty());
}

TEST_CASE("downloads: a temporary file left by a killed download is cleaned up" * doctest::skip(!kCanDownload)) {
  HttpTestServer server;
  std::string bytes = payload();
  server.serve("/test/payload.bin", {.body = bytes});
  FreshMachine machine(server.url());
  std::string stale = machine.home.file("test/payload.bin.tmp.2147483646");  // no such process
  testing::write_text(stale, "half");
  hub::ensure_file(test_file(bytes));
  CHECK_FALSE(file_exists(stale));
}

TEST_CASE("downloads: NIB_MIRROR replaces the publisher's address with the mirror's, laid out like the cache") {
  hub::KnownFile file{"test/payload.bin", "http://publisher.invalid/payload.bin", 1, std::string(64, '0')};
  {
    ScopedEnv no_mirror("NIB_MIRROR", "");
    CHECK(hub::source_url(file) == "http://publisher.invalid/payload.bin");
  }
  ScopedEnv mirror("NIB_MIRROR", "http://mirror.example/nib/");
  CHECK(hub::source_url(file) == "http://mirror.example/nib/test/payload.bin");
}

TEST_CASE("downloads: a NIB_DOWNLOAD_TIMEOUT that is not a number of seconds is an error naming it" *
          doctest::skip(!kCanDownload)) {
  hub::KnownFile file = test_file("x");
  ScopedEnv home("NIB_HOME", "/nowhere/nib");
  ScopedEnv timeout("NIB_DOWNLOAD_TIMEOUT", "soon");
  CHECK(error_of([&] { hub::download_file(file); }).find("NIB_DOWNLOAD_TIMEOUT must be a number of seconds") !=
        std::string::npos);
}

TEST_CASE("downloads: built without libcurl or OpenSSL, a download says so and where to put the file" *
          doctest::skip(kCanDownload)) {
  FreshMachine machine(closed_port_url());
  hub::KnownFile file{"test/x.bin", "http://publisher.invalid/x.bin", 1, std::string(64, '0')};
  std::string error = error_of([&] { hub::ensure_file(file); });
  CHECK(error.find("http://publisher.invalid/x.bin") == std::string::npos);  // the mirror's URL is named
  CHECK(error.find("/test/x.bin: nib was built without") != std::string::npos);
  CHECK(error.find("Put the file at " + machine.home.path() + "/test/x.bin by hand") != std::string::npos);
  CHECK(hub::why_no_downloads() != "");
}

TEST_CASE("downloads: the catalog's digests are well formed, and torchvision's start with the name's hash") {
  for (const hub::KnownItem& item : hub::known_items()) {
    CAPTURE(item.name);
    CHECK(hub::find_item(item.name) == &item);
    for (const hub::KnownFile& file : item.files) {
      CAPTURE(file.path);
      CHECK(file.sha256.size() == 64);
      CHECK(file.sha256.find_first_not_of("0123456789abcdef") == std::string::npos);
      CHECK(file.path.rfind(item.folder() + "/", 0) == 0);
      CHECK(file.url.substr(file.url.find_last_of('/') + 1) == file.name());
      // torch.hub's check_hash: the 8 hex digits after the last '-' begin the SHA-256.
      if (item.kind == hub::ItemKind::Weights) {
        std::string name = file.name();
        std::string prefix = name.substr(name.find_last_of('-') + 1, 8);
        CHECK(file.sha256.rfind(prefix, 0) == 0);
      }
    }
  }
  CHECK(error_of([] { hub::known_item("imagenet22k"); }).find("mnist, fashion_mnist") != std::string::npos);
}

TEST_CASE("downloads: --weights imagenet: converted weights in the cache are used without the network, "
          "a hand-placed checkpoint must have the published digest, and other architectures have none") {
  FreshMachine machine(closed_port_url());
  CHECK(error_of([] { models::resolve_weights("basic-cnn", "imagenet"); }).find("not for 'basic-cnn'") !=
        std::string::npos);
  CHECK(models::resolve_weights("resnet18", "my.safetensors") == "my.safetensors");

  if (sha256_available()) {
    testing::write_text(machine.home.file("pretrained/resnet18-f37072fd.pth"), "not the checkpoint");
    std::string error = error_of([] { models::resolve_weights("resnet18", "imagenet"); });
    CHECK(error.find("resnet18-f37072fd.pth: its SHA-256 is") != std::string::npos);
    CHECK_FALSE(file_exists(machine.home.path() + "/pretrained/resnet18-f37072fd.safetensors"));
  }

  std::string converted = machine.home.file("pretrained/vgg16-397923af.safetensors");
  testing::write_text(converted, "already converted");
  CHECK(models::resolve_weights("vgg16", "imagenet") == converted);
}

TEST_CASE("downloads: a checkpoint is converted to safetensors that load_pretrained reads back") {
  TempDir dir;
  const hub::KnownItem& item = hub::known_item("resnet18");
  std::string out = dir.file("pretrained/resnet18-f37072fd.safetensors");
  // The reduced-width ResNet-18 fixture stands in for torchvision's checkpoint.
  models::convert_checkpoint("resnet18", item.files.front(), NIB_FIXTURE_DIR "/torchvision/resnet18.safetensors", out);
  SafeTensorsFile converted = load_safetensors(out);
  CHECK(converted.metadata["arch"] == "resnet18");
  CHECK(converted.metadata["source"] == "resnet18-f37072fd.pth");
  CHECK(converted.metadata["source_sha256"] == item.files.front().sha256);
  CHECK(models::load_pretrained("resnet18", out, {}).spec.name == "resnet18");

  // Weights of another architecture: an error naming the checkpoint, and no file.
  std::string wrong = dir.file("pretrained/wrong.safetensors");
  std::string error = error_of([&] {
    models::convert_checkpoint("resnet18", item.files.front(), NIB_FIXTURE_DIR "/torchvision/vgg16.safetensors", wrong);
  });
  CHECK(error.find("vgg16.safetensors") != std::string::npos);
  CHECK_FALSE(file_exists(wrong));
}

TEST_CASE("downloads: 'mnist' on a fresh machine comes from the mirror, matches the published digests, and loads "
          "(needs the real MNIST in ../shared/data or $NIB_DATA)" *
          doctest::skip(!kCanDownload || !kHaveRealMnist)) {
  HttpTestServer server;
  server.serve_folder(testing::shared_data_dir());  // laid out as a mirror: mnist/...
  FreshMachine machine(server.url());
  // 11.6 MB through the in-process server: under the sanitizers on a loaded
  // machine it pauses for over a second (the 1 s stall timeout timed it out).
  ScopedEnv patient("NIB_DOWNLOAD_TIMEOUT", "30");

  data::DataSource source = data::detect_data("mnist");
  CHECK(source.kind == data::DataKind::Mnist);
  CHECK(source.path == machine.home.path() + "/mnist");
  CHECK(server.requests() == 4);
  CHECK(files_in(machine.home.path()).size() == 4);
  data::LoadedData loaded = data::load_data(source);
  CHECK(loaded.train.size() == 60000);
  CHECK(loaded.test.size() == 10000);

  CHECK(data::detect_data("mnist").path == source.path);  // the second time from the cache
  CHECK(server.requests() == 4);
}

TEST_CASE("downloads: the ImageNet class index nib classify fetches matches the published digest "
          "(needs ../shared/data/imagenet or $NIB_DATA)" *
          doctest::skip(!kCanDownload || !kHaveRealClassIndex)) {
  HttpTestServer server;
  server.serve_folder(testing::shared_data_dir());
  FreshMachine machine(server.url());
  std::string path = hub::ensure_file(hub::known_item("imagenet_classes").files.front());
  CHECK(path == machine.home.path() + "/imagenet/imagenet_class_index.json");
  CHECK(server.requests() == 1);
}
