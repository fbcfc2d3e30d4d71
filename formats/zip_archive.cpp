#include "formats/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "util/error.h"

namespace nib {

namespace {

uint16_t u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const unsigned char* p) { return u16(p) | (static_cast<uint32_t>(u16(p + 2)) << 16); }
uint64_t u64(const unsigned char* p) { return u32(p) | (static_cast<uint64_t>(u32(p + 4)) << 32); }

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

}  // namespace

ZipArchive::ZipArchive(const std::string& path) : path_(path), file_(path, std::ios::binary) {
  NIB_CHECK(file_, path, ": cannot open file");
  file_.seekg(0, std::ios::end);
  file_size_ = static_cast<uint64_t>(file_.tellg());
  auto read_at = [&](uint64_t offset, size_t n) {
    NIB_CHECK(n <= file_size_ && offset <= file_size_ - n, path, ": truncated zip archive (needs ", n,
              " bytes at offset ", offset, " of ", file_size_, ")");
    std::string bytes(n, '\0');
    file_.seekg(static_cast<std::streamoff>(offset));
    file_.read(bytes.data(), static_cast<std::streamsize>(n));
    NIB_CHECK(file_, path, ": read error");
    return bytes;
  };

  // The end-of-central-directory record sits in the last 22 + 65535 bytes
  // (its comment can be that long); search backwards for its signature.
  uint64_t tail_size = std::min<uint64_t>(file_size_, 22 + 65535);
  NIB_CHECK(file_size_ >= 22, path, ": too small to be a zip archive (", file_size_, " bytes)");
  std::string tail = read_at(file_size_ - tail_size, tail_size);
  auto* t = reinterpret_cast<const unsigned char*>(tail.data());
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail_size) - 22; i >= 0; --i)
    if (u32(t + i) == kEndOfCentralDirectory) {
      eocd = i;
      break;
    }
  NIB_CHECK(eocd >= 0, path, ": not a zip archive (no end-of-central-directory record); "
                             "PyTorch checkpoints written before 1.6 (legacy format) are not supported");
  uint64_t count = u16(t + eocd + 10);
  uint64_t directory_offset = u32(t + eocd + 16);
  // Zip64: the real values live in another record, found through a locator.
  if (eocd >= 20 && u32(t + eocd - 20) == kZip64EndLocator) {
    uint64_t zip64_offset = u64(t + eocd - 20 + 8);
    std::string record = read_at(zip64_offset, 56);
    auto* r = reinterpret_cast<const unsigned char*>(record.data());
    NIB_CHECK(u32(r) == kZip64End, path, ": corrupt zip64 end record");
    count = u64(r + 32);
    directory_offset = u64(r + 48);
  }

  uint64_t offset = directory_offset;
  for (uint64_t i = 0; i < count; ++i) {
    std::string header = read_at(offset, 46);
    auto* h = reinterpret_cast<const unsigned char*>(header.data());
    NIB_CHECK(u32(h) == kCentralHeader, path, ": corrupt zip central directory (entry ", i, ")");
    Entry e;
    e.method = u16(h + 10);
    e.compressed_size = u32(h + 20);
    e.size = u32(h + 24);
    uint16_t name_length = u16(h + 28), extra_length = u16(h + 30), comment_length = u16(h + 32);
    e.local_header_offset = u32(h + 42);
    e.name = read_at(offset + 46, name_length);
    std::string extra = read_at(offset + 46 + name_length, extra_length);
    // Zip64 extended information: 64-bit values for the fields saturated at 0xFFFFFFFF, in this order.
    auto* x = reinterpret_cast<const unsigned char*>(extra.data());
    for (size_t p = 0; p + 4 <= extra.size();) {
      uint16_t id = u16(x + p);
      // A field that says it is longer than the extra data is cut at its end.
      size_t size = std::min<size_t>(u16(x + p + 2), extra.size() - p - 4);
      if (id == 0x0001) {
        size_t q = p + 4;
        auto next = [&](uint64_t& field) {
          if (field == 0xFFFFFFFFu && q + 8 <= p + 4 + size) {
            field = u64(x + q);
            q += 8;
          }
        };
        next(e.size);
        next(e.compressed_size);
        next(e.local_header_offset);
      }
      p += 4 + size;
    }
    entries_.push_back(e);
    offset += 46 + name_length + extra_length + comment_length;
  }
}

const ZipArchive::Entry* ZipArchive::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const ZipArchive::Entry* ZipArchive::find_suffix(const std::string& suffix) const {
  for (const auto& e : entries_)
    if (e.name.size() >= suffix.size() && e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return &e;
  return nullptr;
}

std::string ZipArchive::read(const Entry& entry) {
  NIB_CHECK(entry.size <= kMaxZipEntryBytes, path_, ": entry ", entry.name, " says it holds ", entry.size,
            " bytes, over nib's limit of ", kMaxZipEntryBytes, " for one entry");
  NIB_CHECK(entry.method != 0 || entry.size == entry.compressed_size, path_, ": corrupt zip entry ", entry.name,
            ": stored uncompressed, yet ", entry.compressed_size, " bytes hold ", entry.size);
  NIB_CHECK(entry.method != 8 || (entry.size - std::min<uint64_t>(entry.size, 64)) / kMaxDeflateRatio <= entry.compressed_size, path_, ": entry ",
            entry.name, " says ", entry.compressed_size, " deflated bytes inflate to ", entry.size,
            ", more than deflate can (", kMaxDeflateRatio, " times): a zip bomb or a corrupt archive");
  NIB_CHECK(entry.local_header_offset <= file_size_ && file_size_ - entry.local_header_offset >= 30, path_,
            ": truncated zip archive (entry ", entry.name, ")");
  unsigned char local[30];
  file_.seekg(static_cast<std::streamoff>(entry.local_header_offset));
  file_.read(reinterpret_cast<char*>(local), 30);
  NIB_CHECK(file_ && u32(local) == kLocalHeader, path_, ": corrupt zip entry header for ", entry.name);
  uint64_t data_offset = entry.local_header_offset + 30 + u16(local + 26) + u16(local + 28);
  NIB_CHECK(data_offset <= file_size_ && entry.compressed_size <= file_size_ - data_offset, path_, ": truncated zip archive: entry ", entry.name,
            " needs ", entry.compressed_size, " bytes at offset ", data_offset, " but the file has ", file_size_);
  std::string stored(entry.compressed_size, '\0');
  file_.seekg(static_cast<std::streamoff>(data_offset));
  file_.read(stored.data(), static_cast<std::streamsize>(stored.size()));
  NIB_CHECK(file_, path_, ": read error in entry ", entry.name);
  if (entry.method == 0) return stored;
  NIB_CHECK(entry.method == 8, path_, ": entry ", entry.name, " uses zip compression method ", entry.method,
            " (only stored and deflate are supported)");

  std::string out(entry.size, '\0');
  z_stream z{};
  NIB_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, "zlib: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(stored.data());
  z.avail_in = static_cast<uInt>(stored.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int status = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  NIB_CHECK(status == Z_STREAM_END && z.total_out == entry.size, path_, ": corrupt deflated data in entry ",
            entry.name);
  return out;
}

}  // namespace nib
