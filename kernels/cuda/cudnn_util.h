// Small RAII wrappers for the cuDNN descriptors nib's cudnn:: kernels use,
// so that an exception between create and destroy leaks nothing. Only
// *_cudnn.cpp files include this header (they are compiled only with cuDNN).
#pragma once

#include <climits>
#include <cstdint>

#include "device/cuda/context.h"
#include "util/error.h"

namespace nib::kernels::cudnn_util {

// cuDNN takes int sizes: refuse larger ones with a clear message.
inline int to_int(int64_t v, const char* op) {
  NIB_CHECK(v >= 0 && v <= INT_MAX, op, ": size ", v, " does not fit cuDNN's int sizes");
  return static_cast<int>(v);
}

class TensorDesc {
 public:
  TensorDesc() { NIB_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_)); }
  // A dense NCHW float tensor.
  TensorDesc(int n, int c, int h, int w) : TensorDesc() {
    NIB_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  }
  // An NCHW float tensor with explicit strides (a window into a larger one).
  static TensorDesc strided(int n, int c, int h, int w, int sn, int sc, int sh, int sw) {
    TensorDesc d;
    NIB_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(d.desc_, CUDNN_DATA_FLOAT, n, c, h, w, sn, sc, sh, sw));
    return d;
  }
  TensorDesc(TensorDesc&& other) noexcept : desc_(other.desc_) { other.desc_ = nullptr; }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  ~TensorDesc() {
    if (desc_) cudnnDestroyTensorDescriptor(desc_);
  }
  operator cudnnTensorDescriptor_t() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

class FilterDesc {
 public:
  FilterDesc(int k, int c, int r, int s) {
    NIB_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_));
    NIB_CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, r, s));
  }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  ~FilterDesc() { cudnnDestroyFilterDescriptor(desc_); }
  operator cudnnFilterDescriptor_t() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvDesc {
 public:
  ConvDesc() { NIB_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_)); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(desc_); }
  operator cudnnConvolutionDescriptor_t() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

class PoolDesc {
 public:
  PoolDesc() { NIB_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&desc_)); }
  PoolDesc(const PoolDesc&) = delete;
  PoolDesc& operator=(const PoolDesc&) = delete;
  ~PoolDesc() { cudnnDestroyPoolingDescriptor(desc_); }
  operator cudnnPoolingDescriptor_t() const { return desc_; }

 private:
  cudnnPoolingDescriptor_t desc_ = nullptr;
};

// The alpha/beta blend factors cuDNN takes by pointer (y = alpha*result + beta*y).
inline const float* one() {
  static const float v = 1.0f;
  return &v;
}
inline const float* zero() {
  static const float v = 0.0f;
  return &v;
}

}  // namespace nib::kernels::cudnn_util
