#include "tensor/storage.h"

#include <cstdlib>
#include <cstring>

#include "tensor/cuda/runtime.h"
#include "util/error.h"

namespace nib {

namespace {
constexpr size_t kCpuAlignment = 64;
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    // aligned_alloc needs a size that is a multiple of the alignment.
    size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    data_ = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
    NIB_CHECK(data_ != nullptr, "out of host memory allocating ", bytes, " bytes");
  } else {
    require_device(device);
    data_ = cuda::allocate(bytes);
  }
}

Storage::~Storage() {
  if (device_.is_cpu())
    std::free(data_);
  else
    cuda::release(data_);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu())
    std::memcpy(dst, src, bytes);
  else if (dst_device.is_cuda() && src_device.is_cpu())
    cuda::copy(dst, src, bytes, cuda::CopyKind::HostToDevice);
  else if (dst_device.is_cpu() && src_device.is_cuda())
    cuda::copy(dst, src, bytes, cuda::CopyKind::DeviceToHost);
  else
    cuda::copy(dst, src, bytes, cuda::CopyKind::DeviceToDevice);
}

}  // namespace nib
