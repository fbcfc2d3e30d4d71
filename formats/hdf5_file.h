// Reading HDF5 files (Keras' .h5 models and the model.weights.h5 inside a
// .keras archive) through Debian's libhdf5, read-only.
//
// Objects are addressed by slash-separated paths from the root
// ("model_weights/conv2d/conv2d/kernel:0"). Every failure is a nib::Error
// that names the file and the object: HDF5's own error stack printing is
// switched off, and the innermost HDF5 message is kept as the reason
// ("truncated file: eof = 4096, ... stored_eof = 2746480").
//
// Without libhdf5 at build time nib still builds (formats/hdf5_stub.cpp):
// available() is false and opening a file says nib was built without HDF5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nib::hdf5 {

// Whether this build of nib can read HDF5 at all.
bool available();

class File {
 public:
  // Opens a file on disk.
  static File open(const std::string& path);
  // Opens an HDF5 file held in memory (an entry of a zip archive); `name`
  // identifies it in error messages ("model.keras: model.weights.h5").
  static File open_image(const std::string& bytes, const std::string& name);

  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  const std::string& name() const { return name_; }

  // Whether a group or dataset exists at `path` (every step of it).
  bool exists(const std::string& path) const;
  bool is_group(const std::string& path) const;
  // The names of a group's members, in HDF5's order (alphabetical for the
  // files h5py writes, which do not track creation order).
  std::vector<std::string> members(const std::string& group) const;

  // Attributes of the object at `path` ("" or "/" is the root).
  bool has_attribute(const std::string& path, const std::string& attribute) const;
  // A string attribute (fixed-length or variable-length, as h5py writes either).
  std::string string_attribute(const std::string& path, const std::string& attribute) const;
  // An array of strings. Keras splits long lists into "name0", "name1", ...
  // when they do not fit an object header; those are joined here. An
  // attribute that is an empty array of any type (h5py writes an empty list
  // as float64[0]) gives an empty list.
  std::vector<std::string> string_list_attribute(const std::string& path, const std::string& attribute) const;

  // A numeric dataset as a float32 tensor of its shape (float64, float16 and
  // integers are converted by libhdf5; a scalar dataset has shape []).
  Tensor read_tensor(const std::string& path) const;

 private:
  File(int64_t id, std::string name) : id_(id), name_(std::move(name)) {}
  int64_t id_ = -1;  // hid_t
  std::string name_;
};

}  // namespace nib::hdf5
