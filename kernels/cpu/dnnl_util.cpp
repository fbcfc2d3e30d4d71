#include "kernels/cpu/dnnl_util.h"

#include "util/error.h"

namespace nib::kernels::dnnl_util {

const ::dnnl::engine& engine() {
  // Never destroyed: plans in static caches hold primitives made for it.
  static const auto* e = new ::dnnl::engine(::dnnl::engine::kind::cpu, 0);
  return *e;
}

::dnnl::memory wrap(const ::dnnl::memory::desc& md, const float* data) {
  return ::dnnl::memory(md, engine(), const_cast<float*>(data));  // oneDNN takes void*; inputs are only read
}

::dnnl::memory wrap(const ::dnnl::memory::desc& md, void* data) { return ::dnnl::memory(md, engine(), data); }

void execute(const ::dnnl::primitive& primitive, const std::unordered_map<int, ::dnnl::memory>& args) {
  // One in-order stream per thread: a stream is not meant to be shared
  // between threads that submit at once.
  thread_local ::dnnl::stream stream(engine());
  primitive.execute(stream, args);
  stream.wait();
}

void fail(const char* op, const ::dnnl::error& e) {
  nib::fail(op, ": oneDNN: ", e.what(), " (status ", static_cast<int>(e.status), ")");
}

}  // namespace nib::kernels::dnnl_util
