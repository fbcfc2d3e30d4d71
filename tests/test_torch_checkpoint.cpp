// Reading PyTorch checkpoints without Python: fixtures written by
// tools/fixtures/torch_checkpoint.py with Debian's PyTorch.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "formats/pickle.h"
#include "formats/torch_checkpoint.h"
#include "tests/helpers.h"

namespace {

const std::string kDir = std::string(NIB_FIXTURE_DIR) + "/pth/";

double checksum(const nib::Tensor& t) {
  double sum = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = 0.0;
    switch (t.dtype()) {
      case nib::DType::F32: v = t.data_as<float>()[i]; break;
      case nib::DType::F64: v = t.data_as<double>()[i]; break;
      case nib::DType::I64: v = static_cast<double>(t.data_as<int64_t>()[i]); break;
      default: FAIL("unexpected dtype");
    }
    sum += v * static_cast<double>(i + 1);
  }
  return sum;
}

std::string shape_text(const nib::Tensor& t) {
  if (t.dim() == 0) return "scalar";
  std::string s;
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "x" : "") + std::to_string(t.size(d));
  return s;
}

}  // namespace

TEST_CASE("torch checkpoint: every tensor of a state dict matches PyTorch") {
  nib::NamedTensors tensors = nib::load_torch_checkpoint(kDir + "small.pth");
  std::ifstream expected(kDir + "expected.txt");
  REQUIRE(expected);
  std::string name, shape;
  double sum;
  size_t i = 0;
  while (expected >> name >> shape >> sum) {
    REQUIRE(i < tensors.size());
    CHECK(tensors[i].first == name);  // in the checkpoint's order
    CHECK(shape_text(tensors[i].second) == shape);
    CHECK(checksum(tensors[i].second) == doctest::Approx(sum).epsilon(1e-6));
    ++i;
  }
  CHECK(i == tensors.size());
  CHECK(tensors[6].second.dtype() == nib::DType::I64);   // num_batches_tracked
  CHECK(tensors[10].second.dtype() == nib::DType::F64);  // extra.double
}

TEST_CASE("torch checkpoint: a state dict nested under 'state_dict' is found") {
  nib::NamedTensors tensors = nib::load_torch_checkpoint(kDir + "wrapped.pth");
  REQUIRE(tensors.size() == 9);
  CHECK(tensors[0].first == "0.weight");
}

TEST_CASE("torch checkpoint: bad input gives errors naming the file and the problem") {
  CHECK_THROWS_WITH_AS(nib::load_torch_checkpoint(kDir + "module.pth"), doctest::Contains("module.pth"),
                       nib::Error);
  CHECK_THROWS_WITH_AS(nib::load_torch_checkpoint(kDir + "expected.txt"), doctest::Contains("not a zip archive"),
                       nib::Error);
  CHECK_THROWS_WITH_AS(nib::load_torch_checkpoint(kDir + "missing.pth"), doctest::Contains("cannot open"),
                       nib::Error);

  // Truncations anywhere must fail cleanly, never crash.
  std::ifstream in(kDir + "small.pth", std::ios::binary);
  std::stringstream whole;
  whole << in.rdbuf();
  std::string bytes = whole.str();
  std::string path = "/tmp/nib_test_truncated.pth";
  for (size_t keep : {bytes.size() / 4, bytes.size() / 2, bytes.size() - 30}) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    CHECK_THROWS_AS(nib::load_torch_checkpoint(path), nib::Error);
  }
  std::remove(path.c_str());
}

TEST_CASE("pickle: unknown opcodes and truncated streams are errors") {
  CHECK_THROWS_WITH_AS(nib::pickle::unpickle(std::string("\x80\x02\xff", 3), "x"),
                       doctest::Contains("unsupported pickle opcode 0xff"), nib::Error);
  CHECK_THROWS_WITH_AS(nib::pickle::unpickle(std::string("\x80\x02X\x05\x00\x00\x00" "ab", 9), "x"),
                       doctest::Contains("truncated"), nib::Error);
  auto v = nib::pickle::unpickle(std::string("\x80\x02}q\x00(X\x01\x00\x00\x00" "a" "K\x07u.", 16), "x");
  REQUIRE(v->is(nib::pickle::Value::Kind::Dict));
  CHECK(v->get("a")->integer == 7);
}
