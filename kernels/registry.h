// The one place that chooses which implementation of an op runs.
//
// Every op family ("gemm", "conv2d", "pool", ...) has several implementations
// side by side, each a plain function with the same signature:
//
//   CPU  : "reference"  the spec: plain loops written to be read (kernels/cpu/*_reference.cpp)
//          "fast"       OpenMP, cache blocking, vector loops    (kernels/cpu/*_fast.cpp)
//   CUDA : "custom"     nib's hand-written kernels               (kernels/cuda/*.cu)
//          "library"    cuBLAS / cuDNN                           (kernels/cuda/*_library.cpp)
//
// An op lists its implementations in an ImplTable (see ops/*.cpp) and asks
// the table for a function for the device its inputs live on. The choice:
//   1. a scoped override (kernels::Use) — tests and benchmarks name what they want;
//   2. the selection set by kernels::configure(), which apps call with
//      --kernels and which starts from the NIB_KERNELS environment variable:
//      "library" (every family), "conv2d=library,gemm=custom", "reference";
//      the item "tf32" also allows TF32 tensor cores (set_allow_tf32 below);
//   3. the default: "fast" on the CPU, "custom" on CUDA;
//   4. if the preferred name does not exist for that family and device, the
//      first implementation listed for the device.
#pragma once

#include <string>
#include <vector>

#include "tensor/device.h"
#include "util/error.h"

namespace nib::kernels {

// Index of the implementation to use among `names` (all on `device`), or -1
// when the list is empty. Exposed for tests; ops use ImplTable::pick.
int choose(const std::string& family, DeviceType device, const std::vector<std::string>& names);

// Sets the selection from a spec such as "library" or "conv2d=library,gemm=custom".
// Throws nib::Error on a malformed spec or an unknown implementation name.
void configure(const std::string& spec);
// The selection in force, for logs ("cpu: fast; cuda: custom, conv2d=library").
std::string describe();
// Whether the CUDA GEMM paths may use TF32 tensor cores (reduced precision).
// Off by default: nib's numbers match the CPU reference unless asked.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Scoped override: Use use("conv2d", "reference"); ends when it goes out of scope.
class Use {
 public:
  Use(std::string family, std::string impl);
  ~Use();
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

 private:
  std::string family_;
};

// The implementation name that would run for `family` on `device`, or "" if
// the family has none there. Recorded by ImplTable::pick on every call.
std::string last_chosen(const std::string& family, DeviceType device);
void note_chosen(const std::string& family, DeviceType device, const std::string& impl);

template <class Fn>
struct Impl {
  std::string name;
  DeviceType device;
  Fn* fn;
};

template <class Fn>
class ImplTable {
 public:
  ImplTable(std::string family, std::vector<Impl<Fn>> impls) : family_(std::move(family)), impls_(std::move(impls)) {}

  Fn* pick(Device device) const {
    std::vector<std::string> names;
    std::vector<Fn*> fns;
    for (const auto& impl : impls_) {
      if (impl.device == device.type) {
        names.push_back(impl.name);
        fns.push_back(impl.fn);
      }
    }
    int i = choose(family_, device.type, names);
    NIB_CHECK(i >= 0, "op family '", family_, "' has no implementation on ", device.name(),
              device.is_cuda() ? " (nib was built without CUDA?)" : "");
    note_chosen(family_, device.type, names[i]);
    return fns[i];
  }
  // The implementation called `name` on `device`, or nullptr (benchmarks race them all).
  Fn* find(const std::string& name, DeviceType device) const {
    for (const auto& impl : impls_)
      if (impl.name == name && impl.device == device) return impl.fn;
    return nullptr;
  }
  const std::vector<Impl<Fn>>& all() const { return impls_; }
  const std::string& family() const { return family_; }

 private:
  std::string family_;
  std::vector<Impl<Fn>> impls_;
};

}  // namespace nib::kernels
