// Reading ZIP archives, enough for PyTorch checkpoints: torch.save() writes a
// zip file holding `<name>/data.pkl` (the pickled structure) and one raw
// storage per tensor under `<name>/data/<key>`. Entries are usually stored
// uncompressed; deflated entries are inflated with zlib.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace nib {

// Limits that keep a damaged or hostile archive from costing more memory than
// a real checkpoint would. An entry is one tensor's storage: 4 GiB is a
// billion float32s, beyond any model nib runs. Deflate cannot expand data more
// than 1032 times (a 258-byte match costs at least 2 bits), so an entry that
// says it inflates further is lying about its size: a zip bomb.
constexpr uint64_t kMaxZipEntryBytes = 0xFFFFFFFFu;  // 4 GiB - 1
constexpr uint64_t kMaxDeflateRatio = 1032;

class ZipArchive {
 public:
  // Reads the central directory; throws nib::Error naming the file when it is
  // not a zip archive or is truncated.
  explicit ZipArchive(const std::string& path);

  struct Entry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflate
    uint64_t compressed_size = 0, size = 0;
    uint64_t local_header_offset = 0;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;
  // The first entry whose name ends with `suffix` ("/data.pkl"), or nullptr.
  const Entry* find_suffix(const std::string& suffix) const;
  // The uncompressed contents of an entry; throws before allocating when the
  // entry breaks the limits above or does not fit in the file.
  std::string read(const Entry& entry);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream file_;
  uint64_t file_size_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace nib
