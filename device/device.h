// Where a tensor's memory lives. One CUDA device is supported for now (index 0),
// but the index is kept so that multi-GPU can be added without an API change.
#pragma once

#include <string>

namespace nib {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device&) const = default;
  std::string name() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

inline constexpr Device kCPU{DeviceType::CPU, 0};
inline constexpr Device kCUDA{DeviceType::CUDA, 0};

// Parses "cpu", "cuda" or "cuda:0". Throws nib::Error on anything else.
Device parse_device(const std::string& text);

// Throws a clear nib::Error when the device cannot be used on this machine:
// nib built without CUDA, or no GPU present. Apps call it before any work.
void require_device(Device device);

}  // namespace nib
