// A tensor's shape: a short list of sizes, outermost first (NCHW for images).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace nib {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  // Negative indices count from the end, as in Python.
  int64_t operator[](int64_t i) const { return dims_[normalize(i)]; }
  int64_t& operator[](int64_t i) { return dims_[normalize(i)]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }
  const std::vector<int64_t>& dims() const { return dims_; }
  auto begin() const { return dims_.begin(); }
  auto end() const { return dims_.end(); }
  bool operator==(const Shape&) const = default;

  // Index counted from the front; throws nib::Error when out of range.
  int64_t normalize(int64_t i) const;
  std::string str() const;  // "[2, 3, 28, 28]"

 private:
  std::vector<int64_t> dims_;
};

inline std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }

}  // namespace nib
