#include "tensor/tensor.h"

#include <cstring>
#include <sstream>

#include "ops/ops.h"
#include "tensor/autograd.h"
#include "tensor/random.h"

namespace nib {

namespace {

const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  NIB_CHECK(impl != nullptr, "use of an undefined tensor");
  return *impl;
}

// Fills a host buffer with random values, then moves it to the device, so a
// seed gives the same tensor on the CPU and the GPU.
template <class Draw>
Tensor random_tensor(const Shape& shape, Device device, Draw draw) {
  Tensor host = Tensor::empty(shape, kCPU);
  float* p = host.data();
  for (int64_t i = 0; i < host.numel(); ++i) p[i] = draw();
  return host.to(device);
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, Device device, DType dtype) {
  for (int64_t d : shape) NIB_CHECK(d >= 0, "negative size in shape ", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, Device device, DType dtype) {
  Tensor t = empty(shape, device, dtype);
  if (dtype == DType::F32)
    ops::fill_(t, 0.0f);
  else if (device.is_cpu())
    std::memset(t.raw_data(), 0, t.bytes());
  else
    copy_bytes(t.raw_data(), device, std::vector<char>(t.bytes(), 0).data(), kCPU, t.bytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  ops::fill_(t, value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  NIB_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ", values.size(),
            " values do not fill shape ", shape);
  Tensor t = empty(shape, device);
  copy_bytes(t.raw_data(), device, values.data(), kCPU, t.bytes());
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen, float mean, float std, Device device) {
  return random_tensor(shape, device, [&] { return mean + std * gen.normal(); });
}

Tensor Tensor::uniform(const Shape& shape, Generator& gen, float low, float high, Device device) {
  return random_tensor(shape, device, [&] { return gen.uniform(low, high); });
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked(impl_).storage; }

void* Tensor::raw_data() const {
  const TensorImpl& impl = checked(impl_);
  return static_cast<char*>(impl.storage->data()) + impl.offset;
}

float* Tensor::data() const {
  NIB_CHECK(dtype() == DType::F32, "expected a float32 tensor, got ", dtype_name(dtype()));
  return static_cast<float*>(raw_data());
}

Tensor Tensor::to(Device device) const {
  if (this->device() == device) return *this;
  Tensor out = empty(shape(), device, dtype());
  copy_bytes(out.raw_data(), device, raw_data(), this->device(), bytes());
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), device(), dtype());
  copy_bytes(out.raw_data(), device(), raw_data(), device(), bytes());
  return out;
}

std::vector<float> Tensor::to_vector() const {
  NIB_CHECK(dtype() == DType::F32, "to_vector needs a float32 tensor, got ", dtype_name(dtype()));
  std::vector<float> values(static_cast<size_t>(numel()));
  copy_bytes(values.data(), kCPU, raw_data(), device(), bytes());
  return values;
}

float Tensor::item() const {
  NIB_CHECK(numel() == 1, "item() needs a one-element tensor, got shape ", shape());
  return to_vector()[0];
}

namespace {

// Resolves a single -1 in a requested shape from the element count.
Shape infer_shape(const Shape& requested, int64_t numel) {
  std::vector<int64_t> dims = requested.dims();
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      NIB_CHECK(infer_at < 0, "reshape: more than one -1 in ", requested);
      infer_at = static_cast<int>(i);
    } else {
      known *= dims[i];
    }
  }
  if (infer_at >= 0) {
    NIB_CHECK(known > 0 && numel % known == 0, "reshape: cannot infer -1 in ", requested, " for ", numel,
              " elements");
    dims[infer_at] = numel / known;
  }
  Shape out(dims);
  NIB_CHECK(out.numel() == numel, "reshape: shape ", requested, " does not hold ", numel, " elements");
  return out;
}

Tensor view_with_shape(const Tensor& t, const Shape& shape) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->offset = t.impl()->offset;
  impl->shape = shape;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

}  // namespace

Tensor Tensor::reshape(const Shape& requested) const {
  Shape target = infer_shape(requested, numel());
  Tensor out = view_with_shape(*this, target);
  if (autograd::needs_graph({this})) {
    Shape input_shape = shape();
    autograd::record(out, "reshape", {*this}, [input_shape](const Tensor& gy, const std::vector<bool>&) {
      return std::vector<Tensor>{gy.reshape(input_shape)};
    });
  }
  return out;
}

Tensor Tensor::flatten(int64_t start_dim) const {
  int64_t start = shape().normalize(start_dim);
  std::vector<int64_t> dims(shape().begin(), shape().begin() + start);
  int64_t rest = 1;
  for (int64_t i = start; i < dim(); ++i) rest *= shape()[i];
  dims.push_back(rest);
  return reshape(Shape(dims));
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  NIB_CHECK(dim() >= 1, "slice_rows needs at least one dimension");
  NIB_CHECK(0 <= begin && begin <= end && end <= size(0), "slice_rows [", begin, ", ", end, ") out of range for ",
            shape());
  std::vector<int64_t> dims = shape().dims();
  int64_t row_elements = dims[0] == 0 ? 0 : numel() / dims[0];
  dims[0] = end - begin;
  Tensor out = view_with_shape(*this, Shape(dims));
  out.impl()->offset += static_cast<size_t>(begin * row_elements) * dtype_size(dtype());
  return out;
}

bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::set_requires_grad(bool value) {
  NIB_CHECK(!value || dtype() == DType::F32, "only float32 tensors can require gradients");
  impl_->requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const { return checked(impl_).grad; }
void Tensor::set_grad(const Tensor& grad) const {
  checked(impl_);
  impl_->grad = grad;
}
const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  NIB_CHECK(requires_grad(), "backward() on a tensor that does not require gradients");
  Tensor seed = grad_output;
  if (!seed.defined()) {
    NIB_CHECK(numel() == 1, "backward() without a gradient needs a one-element tensor, got shape ", shape());
    seed = Tensor::ones(shape(), device());
  }
  NIB_CHECK(seed.shape() == shape(), "backward(): gradient shape ", seed.shape(), " != tensor shape ", shape());
  autograd::run_backward(*this, seed, retain_graph);
}

Tensor Tensor::detach() const { return view_with_shape(*this, shape()); }

std::string Tensor::str(int max_values) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream out;
  out << "Tensor" << shape() << " " << device().name() << " " << dtype_name(dtype());
  if (dtype() == DType::F32) {
    std::vector<float> v = to_vector();
    out << " {";
    for (size_t i = 0; i < v.size() && static_cast<int>(i) < max_values; ++i) out << (i ? ", " : "") << v[i];
    if (static_cast<int>(v.size()) > max_values) out << ", ...";
    out << "}";
  }
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.str(); }

void check_defined(const Tensor& t, const char* op, const char* what) {
  NIB_CHECK(t.defined(), op, ": ", what, " is undefined");
}

void check_f32(const Tensor& t, const char* op) {
  NIB_CHECK(t.dtype() == DType::F32, op, ": expected float32, got ", dtype_name(t.dtype()));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  NIB_CHECK(a.device() == b.device(), op, ": tensors on different devices (", a.device().name(), " and ",
            b.device().name(), ")");
}

}  // namespace nib
