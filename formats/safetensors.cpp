#include "formats/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "util/files.h"
#include "util/json.h"

namespace nib {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

// The reference implementation refuses larger headers; so does nib, so that a
// corrupt length cannot make it allocate gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// One tensor as the header describes it.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // [begin, end) within the data part
};

std::string supported_dtypes() {
  std::string names;
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64, DType::I32, DType::U8})
    names += std::string(names.empty() ? "" : ", ") + dtype_name(t);
  return names;
}

// A whole number >= 0 from the header, or an error naming `what`.
uint64_t header_count(const json::Value& v, const std::string& file, const std::string& what) {
  NIB_CHECK(v.is_number(), file, ": ", what, " must be a number, got ", json::type_name(v.type()));
  double n = v.as_number();
  // Doubles hold whole numbers exactly up to 2^53 (9 PB of data: enough).
  NIB_CHECK(n >= 0 && n <= 9007199254740992.0 && n == std::trunc(n), file, ": ", what,
            " must be a whole number >= 0, got ", json::dump(v));
  return static_cast<uint64_t>(n);
}

Entry parse_entry(const std::string& file, const std::string& name, const json::Value& info) {
  std::string where = str("tensor \"", name, "\"");
  NIB_CHECK(info.is_object(), file, ": ", where, ": expected an object with dtype, shape and data_offsets, got ",
            json::type_name(info.type()));
  for (const auto& [key, value] : info.as_object())
    NIB_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", file, ": ", where, ": unknown field \"",
              key, "\"");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    NIB_CHECK(info.contains(key), file, ": ", where, ": missing field \"", key, "\"");

  Entry e;
  e.name = name;
  const json::Value& dtype = info.at("dtype");
  NIB_CHECK(dtype.is_string(), file, ": ", where, ": dtype must be a string");
  NIB_CHECK(dtype_from_name(dtype.as_string(), e.dtype), file, ": ", where, ": dtype \"", dtype.as_string(),
            "\" is not supported (nib reads ", supported_dtypes(), ")");

  const json::Value& shape = info.at("shape");
  NIB_CHECK(shape.is_array(), file, ": ", where, ": shape must be an array");
  std::vector<int64_t> dims;
  uint64_t numel = 1;
  for (const json::Value& d : shape.as_array()) {
    uint64_t size = header_count(d, file, where + " shape entry");
    NIB_CHECK(!__builtin_mul_overflow(numel, size, &numel), file, ": ", where, ": shape ", json::dump(shape),
              " is too large");
    dims.push_back(static_cast<int64_t>(size));
  }
  e.shape = Shape(dims);

  const json::Value& offsets = info.at("data_offsets");
  NIB_CHECK(offsets.is_array() && offsets.size() == 2, file, ": ", where,
            ": data_offsets must be an array [begin, end]");
  e.begin = header_count(offsets.at(0), file, where + " data_offsets begin");
  e.end = header_count(offsets.at(1), file, where + " data_offsets end");
  NIB_CHECK(e.begin <= e.end, file, ": ", where, ": data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  uint64_t needed = 0;
  NIB_CHECK(!__builtin_mul_overflow(numel, dtype_size(e.dtype), &needed), file, ": ", where, ": shape ",
            e.shape, " is too large");
  NIB_CHECK(e.end - e.begin == needed, file, ": ", where, ": data_offsets [", e.begin, ", ", e.end, "] hold ",
            e.end - e.begin, " bytes, but shape ", e.shape, " of ", dtype_name(e.dtype), " needs ", needed);
  return e;
}

// The header's tensors sorted by offset, after checking that they tile the
// data part exactly: no overlap, no gap, nothing beyond or after the data.
std::vector<Entry> parse_header(const std::string& file, const std::string& header_text, uint64_t data_bytes,
                                std::map<std::string, std::string>& metadata) {
  // Repeated tensor names are repeated keys, which the JSON parser rejects.
  json::Value header = json::parse(header_text, file + " (header)");
  NIB_CHECK(header.is_object(), file, ": the header must be a JSON object, got ", json::type_name(header.type()));

  std::vector<Entry> entries;
  for (const auto& [name, info] : header.as_object()) {
    if (name == "__metadata__") {
      NIB_CHECK(info.is_object(), file, ": __metadata__ must be an object of strings");
      for (const auto& [key, value] : info.as_object()) {
        NIB_CHECK(value.is_string(), file, ": __metadata__ must map strings to strings, but \"", key, "\" is ",
                  json::type_name(value.type()));
        metadata[key] = value.as_string();
      }
      continue;
    }
    entries.push_back(parse_entry(file, name, info));
  }

  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t expected_begin = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    NIB_CHECK(e.end <= data_bytes, file, ": tensor \"", e.name, "\": data_offsets [", e.begin, ", ", e.end,
              "] go beyond the data part (", data_bytes, " bytes; is the file truncated?)");
    if (previous) {
      NIB_CHECK(e.begin >= expected_begin, file, ": tensors \"", previous->name, "\" [", previous->begin, ", ",
                previous->end, "] and \"", e.name, "\" [", e.begin, ", ", e.end, "] overlap");
      NIB_CHECK(e.begin == expected_begin, file, ": a gap of ", e.begin - expected_begin, " bytes between tensors \"",
                previous->name, "\" and \"", e.name, "\" (data_offsets must be contiguous)");
    } else {
      NIB_CHECK(e.begin == 0, file, ": the first tensor \"", e.name, "\" starts at ", e.begin,
                " instead of 0 (data_offsets must be contiguous)");
    }
    expected_begin = e.end;
    previous = &e;
  }
  NIB_CHECK(expected_begin == data_bytes, file, ": ", data_bytes - expected_begin,
            " bytes after the last tensor's data that no tensor uses");
  return entries;
}

}  // namespace

SafeTensorsFile load_safetensors(const std::string& path) {
  NIB_CHECK(file_exists(path), "cannot open ", path, ": no such file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  NIB_CHECK(in, "cannot open ", path, ": ", std::strerror(errno));
  uint64_t file_bytes = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  NIB_CHECK(file_bytes >= 8, path, ": truncated: ", file_bytes,
            " bytes is too short for a safetensors file (it starts with an 8-byte header length)");

  unsigned char length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | length_bytes[i];  // little-endian
  NIB_CHECK(header_bytes <= file_bytes - 8, path, ": the header length ", header_bytes,
            " goes beyond the end of the file (", file_bytes, " bytes; truncated, or not a safetensors file)");
  NIB_CHECK(header_bytes <= kMaxHeaderBytes, path, ": the header length ", header_bytes, " is over the limit of ",
            kMaxHeaderBytes, " bytes");

  std::string header_text(header_bytes, '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_bytes));
  NIB_CHECK(in, path, ": cannot read the header");

  SafeTensorsFile result;
  uint64_t data_start = 8 + header_bytes;
  std::vector<Entry> entries = parse_header(path, header_text, file_bytes - data_start, result.metadata);

  // The entries are sorted and contiguous, so the data reads front to back.
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, kCPU, e.dtype);
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(e.end - e.begin));
    NIB_CHECK(in, path, ": cannot read the data of tensor \"", e.name, "\"");
    result.tensors.emplace_back(e.name, t);
  }
  return result;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json::Value header = json::Value::object();
  if (!metadata.empty()) {
    json::Value& meta = header["__metadata__"];
    meta = json::Value::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
  }

  std::set<std::string> names;
  std::vector<Tensor> host;  // the data to write, in order
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    NIB_CHECK(!name.empty() && name != "__metadata__", "save_safetensors ", path, ": invalid tensor name \"", name,
              "\"");
    NIB_CHECK(names.insert(name).second, "save_safetensors ", path, ": duplicate tensor name \"", name, "\"");
    NIB_CHECK(t.defined(), "save_safetensors ", path, ": tensor \"", name, "\" is undefined");
    json::Value info = json::Value::object();
    info["dtype"] = dtype_name(t.dtype());
    json::Value shape = json::Value::array();
    for (int64_t d : t.shape()) shape.push_back(d);
    info["shape"] = shape;
    info["data_offsets"] = json::Array{offset, offset + t.bytes()};
    header[name] = info;
    offset += t.bytes();
    host.push_back(t.cpu());
  }

  std::string header_text = json::dump(header);
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  unsigned char length_bytes[8];
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>(header_text.size() >> (8 * i));

  write_file_atomic(path, [&](const ByteSink& sink) {
    sink(length_bytes, 8);
    sink(header_text.data(), header_text.size());
    for (const Tensor& t : host) sink(t.raw_data(), t.bytes());
  });
}

}  // namespace nib
