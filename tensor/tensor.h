// Tensor: a shaped view of a Storage, plus what autograd needs.
//
// A Tensor is a cheap handle (a shared pointer): copying one shares the data,
// as in PyTorch. Data is always contiguous, row-major (NCHW for images), so a
// kernel only needs a pointer and the sizes. Views (reshape, flatten, a slice
// of the batch) share storage and differ only in shape and offset; anything
// that would need strides (transpose, permute) makes a copy instead, which
// keeps every kernel simple.
//
// Autograd fields: a tensor made by an op from inputs that require gradients
// points to the op's Node (grad_fn); leaves (parameters) accumulate .grad().
// See tensor/autograd.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"
#include "util/error.h"

namespace nib {

namespace autograd {
struct Node;
}
class Generator;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no data), like an empty optional
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- Creation -----------------------------------------------------------
  static Tensor empty(const Shape& shape, Device device = kCPU, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, Device device = kCPU, DType dtype = DType::F32);
  static Tensor full(const Shape& shape, float value, Device device = kCPU);
  static Tensor ones(const Shape& shape, Device device = kCPU) { return full(shape, 1.0f, device); }
  static Tensor scalar(float value, Device device = kCPU) { return full(Shape{}, value, device); }
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = kCPU);
  // Random tensors draw from a Generator so results are reproducible by seed.
  static Tensor randn(const Shape& shape, Generator& gen, float mean = 0.0f, float std = 1.0f,
                      Device device = kCPU);
  static Tensor uniform(const Shape& shape, Generator& gen, float low, float high, Device device = kCPU);

  // ---- Properties ---------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return shape().rank(); }
  int64_t size(int64_t d) const { return shape()[d]; }
  int64_t numel() const { return shape().numel(); }
  DType dtype() const;
  Device device() const;
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }

  // Raw data pointer (on the tensor's device). data() checks the dtype is F32.
  float* data() const;
  template <class T>
  T* data_as() const {
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;
  const std::shared_ptr<Storage>& storage() const;

  // ---- Copies and views ---------------------------------------------------
  Tensor to(Device device) const;  // a copy on another device (or this tensor if already there)
  Tensor cpu() const { return to(kCPU); }
  Tensor clone() const;            // a deep copy on the same device, not tracked by autograd
  std::vector<float> to_vector() const;  // copies F32 data to the host
  float item() const;                    // the value of a one-element tensor

  // Views share storage. reshape() and flatten() are tracked by autograd;
  // a -1 in the shape is inferred from the others.
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 1) const;  // [N, C, H, W] -> [N, C*H*W]
  // Rows [begin, end) of dim 0, sharing storage; not tracked by autograd
  // (used to cut batches out of a dataset tensor).
  Tensor slice_rows(int64_t begin, int64_t end) const;

  // ---- Autograd -----------------------------------------------------------
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value);
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  bool is_leaf() const { return grad_fn() == nullptr; }
  // Reverse-mode differentiation from this tensor. With no argument the
  // tensor must hold one element and the seed gradient is 1.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;
  // The same data, cut off from the graph.
  Tensor detach() const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  std::string str(int max_values = 8) const;  // "Tensor[2, 3] cpu f32 {0.1, ...}"

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // in bytes, for views
  Shape shape;
  DType dtype = DType::F32;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
};

std::ostream& operator<<(std::ostream& out, const Tensor& t);

// Argument checks shared by every op, with messages that name the op.
void check_defined(const Tensor& t, const char* op, const char* what);
void check_f32(const Tensor& t, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);

}  // namespace nib
