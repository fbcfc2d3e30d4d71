#include "layers/pooling.h"

namespace nib {

namespace {
// stride 0 means "same as the kernel", PyTorch's default.
ops::Pool2dOptions square(int64_t kernel, int64_t stride, int64_t padding) {
  ops::Pool2dOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride_h = o.stride_w = stride == 0 ? kernel : stride;
  o.padding = ops::Padding2d::same(padding);
  return o;
}
std::string pool_text(const char* name, const ops::Pool2dOptions& o) {
  return str(name, "(kernel=", o.kernel_h, ", stride=", o.stride_h, ", padding=", o.padding.top, ")");
}
}  // namespace

MaxPool2d::MaxPool2d(int64_t kernel, int64_t stride, int64_t padding) : options(square(kernel, stride, padding)) {}
std::string MaxPool2d::describe() const { return pool_text("MaxPool2d", options); }

AvgPool2d::AvgPool2d(int64_t kernel, int64_t stride, int64_t padding, bool count_include_pad)
    : options(square(kernel, stride, padding)), count_include_pad(count_include_pad) {}
std::string AvgPool2d::describe() const { return pool_text("AvgPool2d", options); }

}  // namespace nib
