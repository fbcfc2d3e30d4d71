// formats/hdf5_file.h on libhdf5's C API. Every handle opened here is closed
// by a small guard, so an error thrown half-way leaks nothing.
#include "formats/hdf5_file.h"

#include <hdf5.h>
#include <hdf5_hl.h>  // H5LTopen_file_image

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <type_traits>

namespace nib::hdf5 {

static_assert(std::is_same_v<hid_t, int64_t>, "File keeps an hid_t in an int64_t");

namespace {

// Switches off HDF5's printing of its error stack to stderr (once per
// process): failures become nib::Errors with the message below instead.
void silence_hdf5() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

// The innermost message on HDF5's error stack (where the problem was
// detected, e.g. "truncated file: eof = ..."), then clears the stack.
std::string hdf5_reason() {
  std::string reason;
  auto first = [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
    if (n == 0 && e && e->desc) *static_cast<std::string*>(out) = e->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

[[noreturn]] void hdf5_fail(const std::string& file, const std::string& what) {
  std::string reason = hdf5_reason();
  fail(file, ": ", what, reason.empty() ? "" : " (" + reason + ")");
}

// Closes an HDF5 handle when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

std::string object_path(const std::string& path) { return path.empty() || path == "/" ? "." : path; }
std::string shown(const std::string& path) { return path.empty() || path == "." ? "/" : path; }

// The strings of an attribute whose type is a string type.
std::vector<std::string> read_strings(hid_t attr, hid_t type, size_t count) {
  std::vector<std::string> out;
  if (H5Tis_variable_str(type) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type));
    std::vector<char*> values(count, nullptr);
    if (H5Aread(attr, mem.get(), values.data()) < 0) return {};
    for (char* v : values) {
      out.emplace_back(v ? v : "");
      H5free_memory(v);
    }
    return out;
  }
  // Fixed-length: read with the file's own type (its size and padding, so
  // nothing is cut to make room for a terminator), then cut at the first NUL.
  size_t size = H5Tget_size(type);
  Handle mem(H5Tcopy(type), H5Tclose);
  std::vector<char> buffer(size * count + 1, '\0');
  if (H5Aread(attr, mem.get(), buffer.data()) < 0) return {};
  for (size_t i = 0; i < count; ++i) {
    const char* s = buffer.data() + i * size;
    out.emplace_back(s, strnlen(s, size));  // null-padded
  }
  return out;
}

}  // namespace

bool available() { return true; }

File File::open(const std::string& path) {
  silence_hdf5();
  std::FILE* probe = std::fopen(path.c_str(), "rb");  // "no such file" reads better than HDF5's reason
  if (!probe) fail(path, ": cannot open (", std::strerror(errno), ")");
  std::fclose(probe);
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) hdf5_fail(path, "not a readable HDF5 file");
  return File(id, path);
}

File File::open_image(const std::string& bytes, const std::string& name) {
  silence_hdf5();
  // flags 0: libhdf5 keeps its own read-only copy of the bytes.
  hid_t id = H5LTopen_file_image(const_cast<char*>(bytes.data()), bytes.size(), 0);
  if (id < 0) hdf5_fail(name, "not a readable HDF5 file");
  return File(id, name);
}

File::File(File&& other) noexcept : id_(other.id_), name_(std::move(other.name_)) { other.id_ = -1; }

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0) H5Fclose(id_);
    id_ = other.id_;
    name_ = std::move(other.name_);
    other.id_ = -1;
  }
  return *this;
}

File::~File() {
  if (id_ >= 0) H5Fclose(id_);
}

bool File::exists(const std::string& path) const {
  // H5Lexists fails (rather than answering no) when an intermediate group is
  // missing, so the path is checked one step at a time.
  std::stringstream steps(path);
  std::string step, prefix;
  while (std::getline(steps, step, '/')) {
    if (step.empty()) continue;
    prefix += (prefix.empty() ? "" : "/") + step;
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return true;
}

bool File::is_group(const std::string& path) const {
  if (!exists(path)) return false;
  Handle object(H5Oopen(id_, object_path(path).c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.ok()) hdf5_fail(name_, "cannot open " + shown(path));
  return H5Iget_type(object.get()) == H5I_GROUP;
}

std::vector<std::string> File::members(const std::string& group) const {
  Handle g(H5Gopen2(id_, object_path(group).c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) hdf5_fail(name_, "no group " + shown(group));
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) hdf5_fail(name_, "cannot list " + shown(group));
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t length = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) hdf5_fail(name_, "cannot list " + shown(group));
    std::string member(static_cast<size_t>(length) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, member.data(), member.size(), H5P_DEFAULT);
    member.resize(static_cast<size_t>(length));
    names.push_back(member);
  }
  return names;
}

bool File::has_attribute(const std::string& path, const std::string& attribute) const {
  htri_t found = H5Aexists_by_name(id_, object_path(path).c_str(), attribute.c_str(), H5P_DEFAULT);
  if (found < 0) hdf5_fail(name_, "no object " + shown(path));
  return found > 0;
}

std::string File::string_attribute(const std::string& path, const std::string& attribute) const {
  std::string what = "attribute '" + attribute + "' of " + shown(path);
  Handle attr(H5Aopen_by_name(id_, object_path(path).c_str(), attribute.c_str(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (!attr.ok()) hdf5_fail(name_, "no " + what);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  NIB_CHECK(H5Tget_class(type.get()) == H5T_STRING, name_, ": ", what, " is not a string");
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  NIB_CHECK(count == 1, name_, ": ", what, " holds ", count, " strings, expected one");
  std::vector<std::string> values = read_strings(attr.get(), type.get(), 1);
  if (values.size() != 1) hdf5_fail(name_, "cannot read " + what);
  return values[0];
}

std::vector<std::string> File::string_list_attribute(const std::string& path, const std::string& attribute) const {
  if (!has_attribute(path, attribute)) {
    // Keras' chunked form: attribute0, attribute1, ... (too long for one header).
    std::vector<std::string> all;
    for (int chunk = 0; has_attribute(path, attribute + std::to_string(chunk)); ++chunk) {
      std::vector<std::string> part = string_list_attribute(path, attribute + std::to_string(chunk));
      all.insert(all.end(), part.begin(), part.end());
    }
    NIB_CHECK(!all.empty() || has_attribute(path, attribute + "0"), name_, ": no attribute '", attribute, "' on ",
              shown(path));
    return all;
  }
  std::string what = "attribute '" + attribute + "' of " + shown(path);
  Handle attr(H5Aopen_by_name(id_, object_path(path).c_str(), attribute.c_str(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (!attr.ok()) hdf5_fail(name_, "cannot open " + what);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count == 0) return {};
  NIB_CHECK(H5Tget_class(type.get()) == H5T_STRING, name_, ": ", what, " is not a list of strings");
  std::vector<std::string> values = read_strings(attr.get(), type.get(), static_cast<size_t>(count));
  if (values.size() != static_cast<size_t>(count)) hdf5_fail(name_, "cannot read " + what);
  return values;
}

Tensor File::read_tensor(const std::string& path) const {
  Handle dataset(H5Dopen2(id_, object_path(path).c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) hdf5_fail(name_, "no dataset " + shown(path));
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  H5T_class_t kind = H5Tget_class(type.get());
  NIB_CHECK(kind == H5T_FLOAT || kind == H5T_INTEGER, name_, ": dataset ", path, " is not numeric");
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) hdf5_fail(name_, "cannot read the shape of " + path);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape(dims.begin(), dims.end());
  Tensor t = Tensor::empty(Shape(shape));
  if (t.numel() > 0 && H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0)
    hdf5_fail(name_, "cannot read dataset " + path);
  return t;
}

}  // namespace nib::hdf5
