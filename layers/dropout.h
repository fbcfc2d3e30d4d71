// Dropout: zeroes a fraction p of activations in training (inverted dropout,
// so evaluation is the identity). The mask comes from the layer's own seeded
// generator, so a run is reproducible from its seed.
#pragma once

#include "layers/module.h"
#include "ops/ops.h"

namespace nib {

class Dropout : public Module {
 public:
  explicit Dropout(float p = 0.5f) : p(p), gen_(default_generator().next_u64()) {
    NIB_CHECK(p >= 0.0f && p < 1.0f, "Dropout: p must be in [0, 1), got ", p);
  }
  Tensor forward(const Tensor& x) override { return ops::dropout(x, p, is_training(), gen_); }
  std::string describe() const override { return str("Dropout(p=", p, ")"); }
  Generator& generator() { return gen_; }  // saved in checkpoints so --resume is exact

  float p;

 private:
  Generator gen_;
};

}  // namespace nib
