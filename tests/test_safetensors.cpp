// safetensors: round trips, the exact bytes written, and a clear error for
// every way a file can be damaged.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "formats/safetensors.h"
#include "tensor/convert.h"
#include "tensor/random.h"
#include "tests/helpers.h"
#include "tests/shared_data.h"
#include "tests/temp_dir.h"
#include "util/files.h"

using namespace nib;
using nib::testing::TempDir;

namespace {

// A file from its parts: the 8-byte little-endian length, then the header as
// given (no padding added), then the data.
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

std::string bytes_of(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

// The message load_safetensors throws for a file with these bytes.
std::string load_error(const TempDir& dir, const std::string& bytes) {
  std::string path = dir.file("bad.safetensors");
  write_file_atomic(path, bytes);
  return testing::error_of([&] { load_safetensors(path); });
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.bytes()) == 0;
}

}  // namespace

TEST_CASE("safetensors: every dtype round-trips bit for bit, in order, with metadata") {
  TempDir dir;
  Generator gen(7);
  Tensor f32 = Tensor::randn({3, 4}, gen);
  NamedTensors tensors = {
      {"z.f32", f32},
      {"a.f16", to_dtype(f32, DType::F16)},
      {"m.bf16", to_dtype(f32, DType::BF16)},
      {"f64", to_dtype(f32, DType::F64)},
      {"i64", to_dtype(Tensor::from_vector({-3, 0, 5}, {3}), DType::I64)},
      {"i32", to_dtype(Tensor::from_vector({7, -8}, {2, 1}), DType::I32)},
      {"u8", to_dtype(Tensor::from_vector({0, 255, 3}, {1, 3}), DType::U8)},
      {"scalar", Tensor::scalar(2.5f)},
      {"empty", Tensor::zeros({0, 5})},
  };
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "quotes \" and\nnewlines"}};
  std::string path = dir.file("all.safetensors");
  save_safetensors(path, tensors, metadata);

  SafeTensorsFile file = load_safetensors(path);
  CHECK(file.metadata == metadata);
  REQUIRE(file.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO("tensor " << tensors[i].first);
    CHECK(file.tensors[i].first == tensors[i].first);
    CHECK(file.tensors[i].second.device() == kCPU);
    CHECK(same_bytes(file.tensors[i].second, tensors[i].second));
  }
}

TEST_CASE("safetensors: the bytes written are the reference layout") {
  TempDir dir;
  std::string path = dir.file("small.safetensors");
  save_safetensors(path, {{"a", Tensor::from_vector({1, 2}, {2})}});
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(header.size() == 54);
  // Padded with spaces to 56 so that the data starts at an 8-byte boundary.
  CHECK(read_file(path) == file_bytes(header + "  ", bytes_of({1, 2})));

  save_safetensors(path, {{"b", Tensor::scalar(1)}}, {{"k", "v"}});
  std::string with_metadata = R"({"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
  std::string written = read_file(path);
  CHECK((written.size() - 8 - 4) % 8 == 0);
  CHECK(written.substr(8, with_metadata.size()) == with_metadata);
}

TEST_CASE("safetensors: tensors load in the order of their data, whatever the header order") {
  TempDir dir;
  std::string header = R"({"second":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                       R"("first":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string path = dir.file("order.safetensors");
  write_file_atomic(path, file_bytes(header, bytes_of({10, 20})));
  SafeTensorsFile file = load_safetensors(path);
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.tensors[0].first == "first");
  CHECK(file.tensors[0].second.item() == 10);
  CHECK(file.tensors[1].first == "second");
  CHECK(file.tensors[1].second.item() == 20);
}

TEST_CASE("safetensors: every kind of damage gives an error naming the file and the problem") {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape, int begin, int end) {
    return str("\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":", shape, ",\"data_offsets\":[", begin, ",", end,
               "]}");
  };
  auto object = [](std::vector<std::string> members) {
    std::string out = "{";
    for (size_t i = 0; i < members.size(); ++i) out += (i ? "," : "") + members[i];
    return out + "}";
  };
  std::string eight = bytes_of({1, 2});
  struct Case {
    std::string what;
    std::string bytes;
    const char* message;
  };
  std::vector<Case> cases = {
      {"empty file", "", "truncated: 0 bytes"},
      {"shorter than the length", std::string("\x10\0\0", 3), "truncated: 3 bytes"},
      {"header length beyond the file", file_bytes("{}", "").substr(0, 8) + "{", "goes beyond the end of the file"},
      {"absurd header length", std::string(8, '\xff') + "{}", "goes beyond the end of the file"},
      {"bad JSON", file_bytes("{\"a\":", ""), "bad.safetensors (header): at byte 5: expected a value"},
      {"header not an object", file_bytes("[1, 2]  ", ""), "the header must be a JSON object"},
      {"duplicate names", file_bytes(object({entry("a", "F32", "[1]", 0, 4), entry("a", "F32", "[1]", 4, 8)}),
                                     eight),
       "duplicate key \"a\""},
      {"unknown dtype", file_bytes(object({entry("w", "I8", "[8]", 0, 8)}), eight),
       "tensor \"w\": dtype \"I8\" is not supported (nib reads F32, F16, BF16, F64, I64, I32, U8)"},
      {"missing field", file_bytes(R"({"w":{"dtype":"F32","shape":[2]}})", eight),
       "tensor \"w\": missing field \"data_offsets\""},
      {"unknown field", file_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", eight),
       "tensor \"w\": unknown field \"x\""},
      {"negative size", file_bytes(object({entry("w", "F32", "[-2]", 0, 8)}), eight),
       "tensor \"w\" shape entry must be a whole number >= 0, got -2"},
      {"fractional size", file_bytes(object({entry("w", "F32", "[1.5]", 0, 8)}), eight), "whole number"},
      {"size not matching shape", file_bytes(object({entry("w", "F32", "[3]", 0, 8)}), eight),
       "tensor \"w\": data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"},
      {"absurd offset", file_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,1e300]}})", eight),
       "tensor \"w\" data_offsets end must be a whole number >= 0, got 1e+300"},
      {"offsets reversed", file_bytes(object({entry("w", "F32", "[0]", 8, 0)}), eight), "end before they begin"},
      {"offsets beyond the data", file_bytes(object({entry("w", "F32", "[4]", 0, 16)}), eight),
       "tensor \"w\": data_offsets [0, 16] go beyond the data part (8 bytes; is the file truncated?)"},
      {"overlap", file_bytes(object({entry("a", "F32", "[2]", 0, 8), entry("b", "F32", "[1]", 4, 8)}), eight),
       "tensors \"a\" [0, 8] and \"b\" [4, 8] overlap"},
      {"gap", file_bytes(object({entry("a", "F32", "[1]", 0, 4), entry("b", "F32", "[0]", 8, 8)}), eight),
       "a gap of 4 bytes between tensors \"a\" and \"b\""},
      {"first tensor not at 0", file_bytes(object({entry("a", "F32", "[1]", 4, 8)}), eight),
       "the first tensor \"a\" starts at 4 instead of 0"},
      {"unused trailing bytes", file_bytes(object({entry("a", "F32", "[1]", 0, 4)}), eight),
       "4 bytes after the last tensor's data"},
      {"metadata not strings", file_bytes(R"({"__metadata__":{"epochs":3}})", ""),
       "__metadata__ must map strings to strings, but \"epochs\" is a number"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string message = load_error(dir, c.bytes);
    INFO("message: " << message);
    CHECK(message.find(path) != std::string::npos);
    CHECK(message.find(c.message) != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(load_safetensors(dir.file("absent.safetensors")),
                       doctest::Contains("absent.safetensors: no such file"), Error);
}

TEST_CASE("safetensors: a truncated or scrambled file never crashes the reader") {
  TempDir dir;
  std::string good_path = dir.file("good.safetensors");
  save_safetensors(good_path, {{"w", nib::testing::random_tensor({3, 2}, 1)}, {"b", Tensor::zeros({2})}},
                   {{"k", "v"}});
  std::string good = read_file(good_path);
  // Every truncation is an error ...
  for (size_t n = 0; n < good.size(); ++n) {
    INFO("truncated to " << n << " bytes");
    CHECK(load_error(dir, good.substr(0, n)) != "(no error)");
  }
  // ... and flipping any byte of the length or the header either loads (a
  // changed digit of a value, a space) or is a one-line nib::Error naming the
  // file: never a crash, never another exception. A changed length always
  // leaves the header unreadable.
  size_t rejected = 0;
  for (size_t i = 0; i < good.size() - 32; ++i) {
    INFO("byte " << i << " flipped");
    std::string bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    const std::string error = load_error(dir, bytes);
    if (i < 8) CHECK(error != "(no error)");
    if (error == "(no error)") continue;
    ++rejected;
    CHECK(error.find("bad.safetensors") != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
  }
  CHECK(rejected > (good.size() - 32) / 2);  // most flips break the JSON or the offsets
}

TEST_CASE("safetensors: save rejects what it cannot write") {
  TempDir dir;
  std::string path = dir.file("x.safetensors");
  CHECK_THROWS_WITH_AS(save_safetensors(path, {{"a", Tensor::ones({1})}, {"a", Tensor::ones({1})}}),
                       doctest::Contains("duplicate tensor name \"a\""), Error);
  CHECK_THROWS_WITH_AS(save_safetensors(path, {{"a", Tensor()}}), doctest::Contains("\"a\" is undefined"), Error);
  CHECK_THROWS_WITH_AS(save_safetensors(path, {{"__metadata__", Tensor::ones({1})}}),
                       doctest::Contains("invalid tensor name"), Error);
  CHECK_FALSE(file_exists(path));
}

TEST_CASE("safetensors: the pretrained MobileNetV2 loads" *
          doctest::skip(!nib::testing::has_shared_data("pretrained/mobilenet_v2_tflite_dequant.safetensors"))) {
  std::string path = nib::testing::shared_data_dir() + "/pretrained/mobilenet_v2_tflite_dequant.safetensors";
  SafeTensorsFile file = load_safetensors(path);
  CHECK(file.metadata.at("arch") == "mobilenet_v2");
  CHECK(file.metadata.at("padding") == "tf_same");
  std::map<std::string, Tensor> by_name(file.tensors.begin(), file.tensors.end());
  REQUIRE(by_name.count("features.0.0.weight"));
  CHECK(by_name["features.0.0.weight"].shape() == Shape{32, 3, 3, 3});
  CHECK(by_name["features.1.conv.0.0.weight"].shape() == Shape{32, 1, 3, 3});  // depthwise
  CHECK(by_name["classifier.1.weight"].shape() == Shape{1000, 1280});
  CHECK(by_name["classifier.1.bias"].shape() == Shape{1000});
  CHECK(file.tensors.size() == 262);
  // Sums of absolute values computed from the same file by numpy.
  auto abs_sum = [](const Tensor& t) {
    double total = 0;
    for (float v : t.to_vector()) total += std::fabs(v);
    return total;
  };
  CHECK(abs_sum(by_name["classifier.1.bias"]) == doctest::Approx(249.8420581984101).epsilon(1e-6));
  CHECK(abs_sum(by_name["features.0.0.weight"]) == doctest::Approx(311.3591709136963).epsilon(1e-6));
}
