#!/usr/bin/env bash
# The build refuses an upward include (cmake/layers.cmake): with a layer's own
# include path, a header of a layer below it compiles and one above it does
# not. Checked for every pair of neighbouring layers the build declares, on a
# one-line source, with the compiler and flags the layers are built with.
#
#   upward_include.sh CXX BUILD_DIR
set -u
cxx=$1 build=$2
failures=0
check() {  # layer, header, expect (ok|refused)
  local layer=$1 header=$2 expect=$3 result
  if echo "#include \"$header\"" | "$cxx" -std=c++20 -fsyntax-only -x c++ -I "$build/layers/$layer" - 2>/dev/null; then
    result=ok
  else
    result=refused
  fi
  if [ "$result" = "$expect" ]; then
    echo "ok: layer $layer: #include \"$header\" $result"
  else
    echo "FAIL: layer $layer: #include \"$header\" was $result, expected $expect"
    failures=$((failures + 1))
  fi
}
# Downwards and within a layer: allowed.
check kernels kernels/gemm.h ok
check kernels device/device.h ok
check tensor kernels/registry.h ok
check layers formats/safetensors.h ok
check train models/registry.h ok
check bench train/trainer.h ok
# Upwards: refused, one step and several.
check util device/device.h refused
check device kernels/gemm.h refused
check kernels tensor/tensor.h refused
check tensor formats/safetensors.h refused
check formats layers/module.h refused
check layers optim/optimizer.h refused
check optim distributed/communicator.h refused
check models datasets/dataset.h refused
check datasets train/trainer.h refused
check train retrieval/index.h refused
check bench apps/common.h refused
check util tensor/tensor.h refused
# Sideways, between layers that do not depend on each other: refused too.
check hub device/device.h refused
check viz datasets/dataset.h refused
check models distributed/communicator.h refused
[ $failures -eq 0 ] && echo "all ok" || { echo "$failures failure(s)"; exit 1; }
