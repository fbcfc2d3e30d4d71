#include "device/device.h"

#include "device/cuda/runtime.h"
#include "util/error.h"

namespace nib {

Device parse_device(const std::string& text) {
  if (text == "cpu") return kCPU;
  if (text == "cuda" || text == "gpu") return kCUDA;
  if (text.rfind("cuda:", 0) == 0) {
    NIB_CHECK(text == "cuda:0", "device '", text, "': only one GPU (cuda:0) is supported");
    return kCUDA;
  }
  fail("unknown device '", text, "' (expected cpu or cuda)");
}

void require_device(Device device) {
  if (device.is_cpu()) return;
  NIB_CHECK(cuda::available(), "--device cuda was asked for, but ", cuda::unavailable_reason());
}

}  // namespace nib
