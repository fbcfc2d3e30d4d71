#include "tensor/shape.h"

#include "util/error.h"

namespace nib {

int64_t Shape::normalize(int64_t i) const {
  int64_t r = rank();
  int64_t j = i < 0 ? i + r : i;
  NIB_CHECK(j >= 0 && j < r, "dimension ", i, " is out of range for shape ", str());
  return j;
}

std::string Shape::str() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace nib
