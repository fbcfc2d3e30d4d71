// Seeded random numbers. nib uses its own generator (PCG32) and its own
// normal sampling instead of <random>'s distributions, whose output differs
// between standard libraries: the same seed gives the same weights, the same
// shuffles and the same accuracy on every machine.
#pragma once

#include <cstdint>

namespace nib {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  uint32_t next_u32();
  uint64_t next_u64() { return (static_cast<uint64_t>(next_u32()) << 32) | next_u32(); }
  float uniform();                       // [0, 1)
  float uniform(float low, float high);  // [low, high)
  float normal();                        // mean 0, std 1 (Box-Muller)
  uint32_t below(uint32_t n);            // uniform integer in [0, n), unbiased

  // The whole state, so a checkpoint can resume the exact same stream.
  struct State {
    uint64_t state, inc;
    bool has_spare;
    float spare;
  };
  State state() const { return {state_, inc_, has_spare_, spare_}; }
  void set_state(const State& s);

 private:
  uint64_t state_ = 0, inc_ = 1;
  bool has_spare_ = false;
  float spare_ = 0.0f;
};

}  // namespace nib

namespace nib {
// The generator layers draw their initial weights from, like torch.manual_seed.
Generator& default_generator();
void manual_seed(uint64_t seed);
}  // namespace nib
