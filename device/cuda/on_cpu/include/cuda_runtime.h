// In the CUDA-on-CPU build this folder comes first on the include path, so
// the CUDA sources' own #include <cuda_runtime.h> finds nib's host stand-in.
#pragma once
#include "device/cuda/on_cpu/cuda_on_cpu.h"
