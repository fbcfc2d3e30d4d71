// Storage: one block of memory on one device, shared by every tensor that
// views it (a reshape or a batch slice shares its parent's storage).
// CPU memory is 64-byte aligned so vector loads never straddle cache lines;
// CUDA memory comes from the caching allocator (device/cuda/allocator.cpp).
#pragma once

#include <cstddef>
#include <memory>

#include "device/device.h"

namespace nib {

class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// Byte copies between any two devices; the CUDA side is synchronous with
// respect to the host (a copy to the CPU has landed when it returns).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace nib
