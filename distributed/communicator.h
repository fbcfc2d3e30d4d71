// The processes ("ranks") that train one model together, and the few
// collective operations data-parallel training needs.
//
// Every rank calls the same collectives in the same order, as in MPI. None
// waits for the others longer than the run's timeout: it then throws
// nib::Error naming the operation, so a rank that died or hangs stops the
// rest with an error instead of leaving them waiting forever (the app then
// ends every rank, distributed/world.h).
//
// Implementations: single_process() (one rank; every collective is the
// identity), and MPI (distributed/mpi.h), which hands CUDA buffers to NCCL
// (distributed/nccl.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace nib::distributed {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }
  // Ranks on this machine, and this one's place among them (which GPU it uses).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // "MPI (Open MPI v4.1.4): 2 ranks on 1 machine", for the log.
  virtual std::string describe() const = 0;

  // ---- Host memory -----------------------------------------------------------
  // Rank 0's bytes replace every other rank's.
  virtual void broadcast(void* data, size_t bytes) = 0;
  // values[i] becomes the sum over ranks of values[i], on every rank.
  virtual void sum(double* values, size_t n) = 0;
  // Every rank's bytes, in rank order, on every rank.
  virtual std::vector<std::string> all_gather(const std::string& mine) = 0;
  // Returns once every rank has called it.
  virtual void barrier() = 0;

  // ---- Tensors -----------------------------------------------------------------
  // `flat`, a contiguous float32 tensor on the CPU (MPI) or on this rank's GPU
  // (NCCL), becomes sum over ranks r of weight_r * flat_r, on every rank.
  virtual void weighted_sum(const Tensor& flat, float weight) = 0;
};

// One process training alone.
Communicator& single_process();

// ---- Helpers built on the collectives ------------------------------------------------
// Rank 0's value, on every rank.
bool broadcast_flag(Communicator& comm, bool value);
std::string broadcast_text(Communicator& comm, const std::string& text);
// Rank 0's values of `tensors` (any device and dtype) copied into every
// rank's, in place. The names and shapes must agree: checked first, and a
// mismatch is an error naming the first difference.
void broadcast_tensors(Communicator& comm, const NamedTensors& tensors);

}  // namespace nib::distributed
