// The one place that chooses which implementation of an op runs.
//
// Every op family ("gemm", "conv2d", "pool", ...) has several implementations
// side by side, each a plain function with the same signature:
//
//   CPU  : "reference"  the spec: plain loops written to be read (kernels/cpu/*_reference.cpp)
//          "fast"       OpenMP, cache blocking, vector loops    (kernels/cpu/*_fast.cpp)
//          "dnnl"       Intel's oneDNN (conv2d, pool, batchnorm; kernels/cpu/*_dnnl.cpp), built when
//                       CMake finds libdnnl-dev: the library baseline the fast kernels race, never the default
//   CUDA : "cuda"       nib's hand-written CUDA kernels          (kernels/cuda/*.cu)
//          "cublas"     NVIDIA's cuBLAS (gemm)                   (kernels/cuda/gemm_cublas.cpp)
//          "cudnn"      NVIDIA's cuDNN (conv2d, pool, batchnorm, softmax; kernels/cuda/*_cudnn.cpp)
// The C++ namespaces carry the same names: kernels::reference, kernels::fast,
// kernels::dnnl, kernels::cuda, kernels::cublas, kernels::cudnn.
//
// An op lists its implementations in an ImplTable (see ops/*.cpp), which
// registers them here, and asks the table for a function for the device its
// inputs live on. The choice, per family and device:
//   1. a scoped override (kernels::Use) — tests and benchmarks name what they want;
//   2. the selection set by kernels::configure(), which apps call with
//      --kernels and which starts from the NIB_KERNELS environment variable:
//      "conv2d=cudnn,gemm=cuda" (per family), "cudnn,cublas" (whole-device
//      defaults: the first one a family has wins), "reference", "dnnl"; the item
//      "tf32" also allows TF32 tensor cores;
//   3. the default: "fast" on the CPU, "cuda" on CUDA, or the first listed
//      implementation where a family has no such one.
// Naming a family that does not exist, or an implementation a family does not
// have, is an error that lists what exists: a choice is never ignored.
// NIB_TRACE=1 (or --trace, kernels::set_trace) prints what each family runs
// on which shapes, once per shape.
//
// Choosing costs nothing on the hot path: a table remembers its choice until
// the selection changes (any configure, Use or reset).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "device/device.h"
#include "util/error.h"

namespace nib::kernels {

// Sets the selection from a spec such as "cudnn,cublas" or "conv2d=cudnn,gemm=cuda".
// Throws nib::Error on a malformed spec, an unknown family or an implementation
// that does not exist; then nothing changes.
void configure(const std::string& spec);
// Back to the defaults (NIB_KERNELS is not read again). Scoped Use overrides stay.
void reset();
// The selection in force, for logs ("cpu: fast; cuda: cuda, conv2d=cudnn").
std::string describe();
// Whether the CUDA GEMM paths may use TF32 tensor cores (reduced precision).
// Off by default: nib's numbers match the CPU reference unless asked.
void set_allow_tf32(bool allow);
bool allow_tf32();
// Prints each family's implementation and the shapes it runs on (stderr).
void set_trace(bool on);

// Scoped override: Use use("conv2d", "reference"); ends when it goes out of scope.
// Throws if the family or the implementation does not exist.
class Use {
 public:
  Use(std::string family, std::string impl);
  ~Use();
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

 private:
  std::string family_;
  DeviceType device_;
};

// The implementation `family` last resolved to on `device`, or "" if it has
// not run there since the selection last changed.
std::string last_chosen(const std::string& family, DeviceType device);
// Whether `family` has an implementation `impl` in this build.
bool has_impl(const std::string& family, const std::string& impl);

// ---- For ImplTable ----------------------------------------------------------
// Records that `family` has an implementation `name` on `device`.
void register_impl(const std::string& family, DeviceType device, const std::string& name);
// Index of the implementation to use among `names` (all of `family`, on
// `device`), or -1 when the list is empty.
int choose(const std::string& family, DeviceType device, const std::vector<std::string>& names);
// Changes whenever the selection does.
uint64_t selection_version();
bool tracing();
void trace(const std::string& family, DeviceType device, const std::string& impl, const std::string& shapes);

template <class Fn>
struct Impl {
  std::string name;
  DeviceType device;
  Fn* fn;
};

template <class Fn>
class ImplTable {
 public:
  ImplTable(std::string family, std::vector<Impl<Fn>> impls) : family_(std::move(family)), impls_(std::move(impls)) {
    for (const auto& impl : impls_) register_impl(family_, impl.device, impl.name);
  }

  // The implementation to run on `device`. `shapes` describe the call for
  // the trace (anything str() prints); they are not looked at otherwise.
  template <class... Shapes>
  Fn* pick(Device device, const Shapes&... shapes) const {
    Cached& cached = cache_[static_cast<int>(device.type)];
    const uint64_t version = selection_version();
    int index = cached.version.load(std::memory_order_acquire) == version ? cached.index.load() : resolve(device.type);
    if (tracing()) trace(family_, device.type, impls_[index].name, str(shapes...));
    return impls_[index].fn;
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
  struct Cached {
    std::atomic<uint64_t> version{0};  // selection_version() when index was chosen; 0: never
    std::atomic<int> index{0};
  };

  // The slow path: consults the selection (under its lock) and remembers.
  int resolve(DeviceType device) const {
    const uint64_t version = selection_version();
    std::vector<std::string> names;
    std::vector<int> positions;
    for (size_t i = 0; i < impls_.size(); ++i)
      if (impls_[i].device == device) {
        names.push_back(impls_[i].name);
        positions.push_back(static_cast<int>(i));
      }
    const int chosen = choose(family_, device, names);
    NIB_CHECK(chosen >= 0, "op family '", family_, "' has no implementation on ",
              device == DeviceType::CUDA ? "cuda (nib was built without CUDA?)" : "cpu");
    Cached& cached = cache_[static_cast<int>(device)];
    cached.index.store(positions[chosen]);
    cached.version.store(version, std::memory_order_release);
    return positions[chosen];
  }

  std::string family_;
  std::vector<Impl<Fn>> impls_;
  mutable Cached cache_[2];  // by DeviceType
};

}  // namespace nib::kernels
