// formats/hdf5_file.h when nib was configured without libhdf5: nib builds,
// and any attempt to read an HDF5 file says why it cannot.
#include "formats/hdf5_file.h"

namespace nib::hdf5 {

namespace {
[[noreturn]] void unavailable(const std::string& name) {
  fail(name, ": nib was built without HDF5 support, so it cannot read Keras .h5/.keras files "
             "(install libhdf5-dev and rebuild: scripts/build.sh)");
}
}  // namespace

bool available() { return false; }

File File::open(const std::string& path) { unavailable(path); }
File File::open_image(const std::string&, const std::string& name) { unavailable(name); }
File::File(File&& other) noexcept : id_(other.id_), name_(std::move(other.name_)) {}
File& File::operator=(File&& other) noexcept {
  id_ = other.id_;
  name_ = std::move(other.name_);
  return *this;
}
File::~File() = default;
bool File::exists(const std::string&) const { unavailable(name_); }
bool File::is_group(const std::string&) const { unavailable(name_); }
std::vector<std::string> File::members(const std::string&) const { unavailable(name_); }
bool File::has_attribute(const std::string&, const std::string&) const { unavailable(name_); }
std::string File::string_attribute(const std::string&, const std::string&) const { unavailable(name_); }
std::vector<std::string> File::string_list_attribute(const std::string&, const std::string&) const {
  unavailable(name_);
}
Tensor File::read_tensor(const std::string&) const { unavailable(name_); }

}  // namespace nib::hdf5
