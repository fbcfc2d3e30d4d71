#include "util/image_checks.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "util/error.h"
#include "util/image.h"

namespace nib {

namespace {

bool starts_with(std::string_view bytes, std::string_view magic) { return bytes.substr(0, magic.size()) == magic; }

uint32_t be16(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 8) | static_cast<uint8_t>(b[at + 1]);
}
uint32_t be32(std::string_view b, size_t at) { return (be16(b, at) << 16) | be16(b, at + 2); }

uint32_t le16(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) | (uint32_t{static_cast<uint8_t>(b[at + 1])} << 8);
}
uint32_t le32(std::string_view b, size_t at) { return le16(b, at) | (le16(b, at + 2) << 16); }

// stb decodes an image whose data stops early as if the rest were there
// (zeros), so a 60-byte file could become a gigabyte image. A real file holds
// at least `pixels / pixels_per_byte` bytes: BMP stores its pixels raw, and a
// JPEG codes every 8x8 block of its first component in at least one bit.
void check_enough_data(std::string_view file, uint64_t width, uint64_t height, double pixels_per_byte,
                       const char* format, const std::string& path) {
  const double needed = static_cast<double>(width) * static_cast<double>(height) / pixels_per_byte;
  NIB_CHECK(static_cast<double>(file.size()) >= needed, "load_image: '", path, "' is truncated or corrupt: a ", width,
            "x", height, " ", format, " needs at least ", static_cast<uint64_t>(std::min(needed, 1e18)), " bytes, the file has ",
            file.size());
}

// BMP: the header's size and bits per pixel against the file.
void check_bmp(std::string_view file, const std::string& path) {
  if (file.size() < 18) return;  // stb reports a short file header itself
  const uint32_t header = le32(file, 14);
  // stb fills a header cut short with zeros, so the size fields must be in the file.
  const size_t header_end = header == 12 ? 26 : 30;
  NIB_CHECK(file.size() >= header_end, "load_image: '", path, "' is truncated or corrupt: its BMP header ends at byte ",
            header_end, ", the file has ", file.size(), " bytes");
  uint64_t width = 0, height = 0, bits = 0;
  if (header == 12) {  // OS/2 1.x
    width = le16(file, 18), height = le16(file, 20), bits = le16(file, 24);
  } else {
    width = le32(file, 18), bits = le16(file, 28);
    const int32_t signed_height = static_cast<int32_t>(le32(file, 22));  // negative: stored top-down
    height = signed_height < 0 ? -static_cast<int64_t>(signed_height) : signed_height;
  }
  check_image_size(width, height, path);
  if (bits == 0) return;  // stb refuses it
  check_enough_data(file, width, height, 8.0 / static_cast<double>(bits), "BMP", path);
}

bool supported_format(std::string_view head) {
  return starts_with(head, "\x89PNG\r\n\x1a\n") || starts_with(head, "\xff\xd8\xff") || starts_with(head, "BM");
}

void check_png(std::string_view file, const std::string& path) {
  size_t offset = 8;  // after the signature: chunks of length, type, data, CRC
  bool data_seen = false;
  while (offset + 8 <= file.size()) {
    const uint64_t length = be32(file, offset), left = file.size() - offset - 8;
    const std::string_view type = file.substr(offset + 4, 4);
    NIB_CHECK(length <= left, "load_image: '", path, "' is truncated or corrupt: PNG chunk '", type, "' at byte ",
              offset, " says it holds ", length, " bytes, but only ", left, " follow");
    if (type == "IEND") return;
    if (type == "IHDR" && length >= 8) check_image_size(be32(file, offset + 8), be32(file, offset + 12), path);
    if (type == "IDAT") {
      // stb 2.27 copies an empty first data chunk from a null buffer (memcpy(NULL, ..., 0): undefined behaviour).
      NIB_CHECK(data_seen || length > 0, "load_image: '", path, "' is corrupt: its first PNG data chunk (IDAT, at byte ",
                offset, ") is empty");
      data_seen = true;
    }
    offset += 12 + length;
  }
}

// The Huffman tables a JPEG has defined so far: [class: 0 DC, 1 AC][id 0-3].
using HuffmanTables = bool[2][4];

// One DHT segment's tables: each is a class/id byte, 16 counts, then that many symbols.
void check_huffman_tables(std::string_view segment, size_t at, const std::string& path, HuffmanTables& defined) {
  size_t p = 0;
  while (p < segment.size()) {
    NIB_CHECK(p + 17 <= segment.size(), "load_image: '", path, "' is corrupt: a JPEG Huffman table at byte ", at,
              " is cut short");
    size_t codes = 0;
    for (size_t i = 1; i <= 16; ++i) codes += static_cast<uint8_t>(segment[p + i]);
    NIB_CHECK(codes <= 256 && p + 17 + codes <= segment.size(), "load_image: '", path,
              "' is corrupt: a JPEG Huffman table at byte ", at, " defines ", codes,
              " codes (at most 256, within its segment)");
    const unsigned table_class = static_cast<uint8_t>(segment[p]) >> 4, id = static_cast<uint8_t>(segment[p]) & 15;
    if (table_class <= 1 && id <= 3) defined[table_class][id] = true;  // stb refuses other ids itself
    p += 17 + codes;
  }
}

// A scan (SOS) may only use Huffman tables defined before it: stb 2.27 decodes
// with whatever an undefined table's memory holds, and reads far outside its
// tables (found by the fuzzer). Baseline scans use each component's DC and AC
// tables; progressive ones the DC tables in a first DC scan, the AC tables in
// AC scans. Bytes past the end of the file are zeros, as stb reads them.
void check_scan_tables(std::string_view file, size_t at, bool progressive, const HuffmanTables& defined,
                       const std::string& path) {
  auto byte = [&](size_t i) -> unsigned { return at + 4 + i < file.size() ? static_cast<uint8_t>(file[at + 4 + i]) : 0; };
  const unsigned components = byte(0);
  if (components < 1 || components > 4) return;  // stb refuses the scan itself
  const unsigned spectral_start = byte(1 + 2 * components), approximation_high = byte(3 + 2 * components) >> 4;
  const bool uses_dc = !progressive || (spectral_start == 0 && approximation_high == 0);
  const bool uses_ac = !progressive || spectral_start > 0;
  for (unsigned c = 0; c < components; ++c) {
    const unsigned dc = byte(2 + 2 * c) >> 4, ac = byte(2 + 2 * c) & 15;
    if (dc > 3 || ac > 3) return;  // stb refuses the scan itself
    NIB_CHECK(!uses_dc || defined[0][dc], "load_image: '", path, "' is corrupt: the JPEG scan at byte ", at,
              " uses DC Huffman table ", dc, ", which no DHT segment before it defines");
    NIB_CHECK(!uses_ac || defined[1][ac], "load_image: '", path, "' is corrupt: the JPEG scan at byte ", at,
              " uses AC Huffman table ", ac, ", which no DHT segment before it defines");
  }
}

// Walks the JPEG's segments (and the scans between them: progressive files
// define tables between scans) and checks every DHT.
void check_jpeg(std::string_view file, const std::string& path) {
  HuffmanTables defined = {};
  bool progressive = false;
  size_t p = 2;  // after SOI
  while (p + 4 <= file.size()) {
    if (static_cast<uint8_t>(file[p]) != 0xFF) {  // entropy-coded data: find the next marker
      ++p;
      continue;
    }
    const uint8_t marker = static_cast<uint8_t>(file[p + 1]);
    // Fill bytes, stuffed zeros, restart markers and SOI carry no segment.
    if (marker == 0xFF || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) {
      p += marker == 0xFF ? 1 : 2;
      continue;
    }
    if (marker == 0xD9) return;  // EOI
    const size_t length = be16(file, p + 2);
    if (length < 2) return;  // stb reports a corrupt segment itself
    // A segment cut by the end of the file is still decoded by stb (it reads
    // zeros past the end), so its tables are checked as far as they go.
    if (marker == 0xC4) check_huffman_tables(file.substr(p + 4, length - 2), p, path, defined);
    if (marker == 0xC2) progressive = true;
    if (marker == 0xDA) check_scan_tables(file, p, progressive, defined, path);
    if ((marker == 0xC0 || marker == 0xC1 || marker == 0xC2) && p + 9 <= file.size()) {  // start of frame: the size
      check_image_size(be16(file, p + 7), be16(file, p + 5), path);
      check_enough_data(file, be16(file, p + 7), be16(file, p + 5), 64.0 * 8.0, "JPEG", path);
    }
    p += 2 + length;
  }
}

}  // namespace

void check_image_size(uint64_t width, uint64_t height, const std::string& path) {
  // Both are at most 2^32 here, so the product cannot overflow.
  NIB_CHECK(width * height <= static_cast<uint64_t>(kMaxImagePixels), "load_image: '", path, "' says it is ", width,
            "x", height, " pixels, over nib's limit of ", kMaxImagePixels, " (corrupt, or not a real image)");
}

void check_image_file(std::string_view bytes, const std::string& path) {
  NIB_CHECK(supported_format(bytes), "load_image: cannot decode '", path,
            "': unknown image type (nib reads PNG, JPEG and BMP)");
  if (starts_with(bytes, "\x89PNG")) check_png(bytes, path);
  if (starts_with(bytes, "\xff\xd8")) check_jpeg(bytes, path);
  if (starts_with(bytes, "BM")) check_bmp(bytes, path);
}

}  // namespace nib
