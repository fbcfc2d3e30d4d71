// What untrusted input may cost (docs/input-limits.md): each reader refuses a
// file whose header claims far more than the file holds, or than nib's
// documented limits, with an error naming the file, before any large
// allocation. Each file here is a few bytes that claim gigabytes or more.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "datasets/csv_digits.h"
#include "datasets/mnist.h"
#include "retrieval/index.h"
#include "formats/pickle.h"
#include "formats/safetensors.h"
#include "formats/torch_checkpoint.h"
#include "formats/zip_archive.h"
#include "tests/helpers.h"
#include "tests/temp_dir.h"
#include "util/files.h"
#include "util/image.h"

using namespace nib;
using nib::testing::error_of;
using nib::testing::TempDir;

namespace {

std::string le(uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>(value >> (8 * i));
  return out;
}

std::string be32(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

// A PNG chunk: length, type, body, CRC.
std::string png_chunk(const std::string& type, const std::string& body) {
  std::string typed = type + body;
  return be32(static_cast<uint32_t>(body.size())) + typed +
         be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()), typed.size())));
}

// A raw deflate stream (as zip stores it).
std::string deflate_raw(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A zip archive of one entry whose central directory claims `size`
// uncompressed bytes (a zip64 extra field when it needs more than 32 bits).
std::string zip_of_one(const std::string& name, uint16_t method, const std::string& data, uint64_t size) {
  const bool zip64 = size >= 0xFFFFFFFFu;
  std::string local = le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(0, 4) +
                      le(data.size(), 4) + le(zip64 ? 0xFFFFFFFFu : size, 4) + le(name.size(), 2) + le(0, 2) + name;
  std::string extra = zip64 ? le(0x0001, 2) + le(8, 2) + le(size, 8) : "";
  std::string central = le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(method, 2) + le(0, 4) + le(0, 4) +
                        le(data.size(), 4) + le(zip64 ? 0xFFFFFFFFu : size, 4) + le(name.size(), 2) +
                        le(extra.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name + extra;
  std::string body = local + data;
  std::string end = le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(central.size(), 4) +
                    le(body.size(), 4) + le(0, 2);
  return body + central + end;
}

// A string literal's bytes, NULs included.
template <size_t N>
std::string raw(const char (&text)[N]) {
  return std::string(text, N - 1);
}

std::string safetensors_of(const std::string& header, const std::string& data) {
  return le(header.size(), 8) + header + data;
}

}  // namespace

TEST_CASE("input limits: an image header claiming 100000x100000 pixels is refused before decoding") {
  TempDir dir;
  std::string ihdr = be32(100000) + be32(100000) + std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                    png_chunk("IDAT", deflate_raw("")) + png_chunk("IEND", "");
  std::string path = dir.file("huge.png");
  write_file_atomic(path, png);
  std::string message = error_of([&] { load_image(path); });
  CHECK(message.find("huge.png") != std::string::npos);
  CHECK(message.find("100000x100000") != std::string::npos);
  CHECK(message.find("over nib's limit") != std::string::npos);
}

TEST_CASE("input limits: safetensors offsets past the end of the file, or claiming terabytes") {
  TempDir dir;
  std::string path = dir.file("claims.safetensors");
  // 4 TB of float32 announced, 8 bytes present.
  write_file_atomic(path, safetensors_of(R"({"w":{"dtype":"F32","shape":[1000000000000],)"
                                         R"("data_offsets":[0,4000000000000]}})",
                                         std::string(8, '\0')));
  std::string message = error_of([&] { load_safetensors(path); });
  CHECK(message.find("claims.safetensors") != std::string::npos);
  CHECK(message.find("beyond the data part") != std::string::npos);
  // Just past the end.
  write_file_atomic(path, safetensors_of(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})",
                                         std::string(8, '\0')));
  CHECK(error_of([&] { load_safetensors(path); }).find("beyond the data part") != std::string::npos);
  // A header length past the end of the file.
  write_file_atomic(path, le(uint64_t{1} << 40, 8) + "{}");
  CHECK(error_of([&] { load_safetensors(path); }).find("beyond the end of the file") != std::string::npos);
}

TEST_CASE("input limits: a .pth entry that inflates beyond what it says, or beyond the limit (zip bomb)") {
  TempDir dir;
  std::string path = dir.file("bomb.pth");
  // 100 MB of zeros deflate to ~100 KB; the entry claims 100 MB: honest, but the
  // reader must still stop at what the header says, so first a bomb that lies.
  std::string zeros = deflate_raw(std::string(1 << 20, '\0'));  // 1 MiB of zeros, ~1 KB deflated
  write_file_atomic(path, zip_of_one("archive/data.pkl", 8, zeros, uint64_t{1} << 36));  // says 64 GiB
  std::string message = error_of([&] { load_torch_checkpoint(path); });
  CHECK(message.find("bomb.pth") != std::string::npos);
  CHECK(message.find("over nib's limit") != std::string::npos);

  // Within the 4 GiB limit, but more than deflate can produce from ~1 KB: refused before allocating.
  write_file_atomic(path, zip_of_one("archive/data.pkl", 8, zeros, uint64_t{3} << 30));
  CHECK(error_of([&] { load_torch_checkpoint(path); }).find("zip bomb") != std::string::npos);

  // Claiming less than the data inflates to: inflation stops at the claimed size.
  write_file_atomic(path, zip_of_one("archive/data.pkl", 8, zeros, 1000));
  CHECK(error_of([&] { load_torch_checkpoint(path); }).find("corrupt deflated data") != std::string::npos);

  // A stored entry must hold exactly what it says.
  write_file_atomic(path, zip_of_one("archive/data.pkl", 0, "abc", 1 << 30));
  CHECK(error_of([&] { load_torch_checkpoint(path); }).find("corrupt zip entry") != std::string::npos);

  // And an honest deflated archive still loads (the same checkpoint as tests/fixtures/pth/small.pth).
  CHECK(load_torch_checkpoint(std::string(NIB_SOURCE_DIR) + "/fuzz/corpus/torch_checkpoint/deflated.pth").size() ==
        11);
}

TEST_CASE("input limits: pickle nesting deeper than the limit, and recursive structures") {
  auto nested = [](int levels) {  // `levels` lists, each appended into the one below
    return "\x80\x02" + std::string(levels, ']') + std::string(levels - 1, 'a') + ".";
  };
  auto v = pickle::unpickle(nested(pickle::kMaxNestingDepth), "ok.pkl");
  CHECK(v->is(pickle::Value::Kind::List));
  std::string message = error_of([&] { pickle::unpickle(nested(pickle::kMaxNestingDepth + 1), "deep.pkl"); });
  CHECK(message.find("deep.pkl") != std::string::npos);
  CHECK(message.find("deeper than 200") != std::string::npos);
  // 100000 levels: refused long before the recursive destructor could overflow the stack.
  CHECK(error_of([&] { pickle::unpickle(nested(100000), "deeper.pkl"); }).find("deeper than") != std::string::npos);

  // A list inside itself, directly (APPEND) and through another list.
  CHECK(error_of([&] { pickle::unpickle(raw("\x80\x02]q\x00h\x00" "a."), "self.pkl"); })
            .find("inside itself") != std::string::npos);
  CHECK(error_of([&] { pickle::unpickle(raw("\x80\x02]q\x00]h\x00" "aa."), "cycle.pkl"); })
            .find("already inside another value") != std::string::npos);
}

TEST_CASE("input limits: a CSV line longer than the limit") {
  TempDir dir;
  std::string path = dir.file("long.csv");
  write_file_atomic(path, "label,pixel0\n" + std::string(data::kMaxCsvLineBytes + 10, '1'));
  std::string message = error_of([&] { data::load_digits_csv(path); });
  CHECK(message.find("long.csv:2") != std::string::npos);
  CHECK(message.find("longer than") != std::string::npos);
  // A header without any newline, too.
  write_file_atomic(path, std::string(data::kMaxCsvLineBytes + 1, ','));
  CHECK(error_of([&] { data::load_digits_csv(path); }).find("long.csv:1") != std::string::npos);
  // A line exactly at the limit is read.
  write_file_atomic(path, "pixel0\n" + std::string(data::kMaxCsvLineBytes - 1, ' ') + "7\n");
  CHECK(data::load_digits_csv(path).size() == 1);
}

TEST_CASE("input limits: an IDX header claiming more images than its file holds") {
  TempDir dir;
  std::string path = dir.file("train-images-idx3-ubyte");
  // 60000 images of 28x28 announced, one present.
  write_file_atomic(path, be32(0x803) + be32(60000) + be32(28) + be32(28) + std::string(784, '\x10'));
  std::string message = error_of([&] { data::load_idx_images(path); });
  CHECK(message.find("train-images-idx3-ubyte") != std::string::npos);
  CHECK(message.find("truncated") != std::string::npos);
  // 65536 images of 2^24 x 2^24: 2^64 bytes, which wraps to 0 in a 64-bit product.
  write_file_atomic(path, be32(0x803) + be32(65536) + be32(1 << 24) + be32(1 << 24));
  CHECK(error_of([&] { data::load_idx_images(path); }).find("implausible header") != std::string::npos);
  // Labels: 4 billion announced, 3 present.
  write_file_atomic(path, be32(0x801) + be32(0xFFFFFFFFu) + "abc");
  CHECK(error_of([&] { data::load_idx_labels(path); }).find("implausible header") != std::string::npos);
  write_file_atomic(path, be32(0x801) + be32(1000000) + "abc");
  CHECK(error_of([&] { data::load_idx_labels(path); }).find("truncated") != std::string::npos);
}

TEST_CASE("input limits: a retrieval index claiming more rows than its file holds") {
  TempDir dir;
  std::string path = dir.file("index.safetensors");
  // A million rows of 512 features announced (2 GB), two rows present.
  std::string header = R"({"__metadata__":{"format":"nib-index-1","root":"","paths":"[\"a\",\"b\"]",)"
                       R"("class_names":"[]"},"features":{"dtype":"F32","shape":[1000000,512],)"
                       R"("data_offsets":[0,2048000000]}})";
  write_file_atomic(path, safetensors_of(header, std::string(2 * 512 * 4, '\0')));
  std::string message = error_of([&] { retrieval::ImageIndex::load(path); });
  CHECK(message.find("index.safetensors") != std::string::npos);
  CHECK(message.find("beyond the data part") != std::string::npos);
}
