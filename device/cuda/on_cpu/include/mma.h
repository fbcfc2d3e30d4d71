// In the CUDA-on-CPU build, #include <mma.h> (WMMA) finds nib's host stand-in.
#pragma once
#include "device/cuda/on_cpu/wmma.h"
