// Learning-rate schedules: the lr as a pure function of the optimizer step.
//
// A schedule holds no state, so resuming from a checkpoint needs only the
// global step: lr(step) is the rate for optimizer update number `step`
// (0 = the first). Values match torch.optim.lr_scheduler's at the same step
// (StepLR, CosineAnnealingLR, OneCycleLR without momentum cycling).
//
// On the command line a schedule is a spec (parse_schedule):
//   constant                          the base lr throughout
//   step:EPOCHS:GAMMA                 lr × GAMMA every EPOCHS epochs (GAMMA defaults to 0.1)
//   cosine[:MIN_LR]                   cosine from the base lr down to MIN_LR (0) at the last step
//   onecycle[:PCT:DIV:FINAL_DIV]      1cycle with the base lr as its peak (0.3, 25, 1e4)
//   warmup:STEPS+SPEC                 linear warm-up over STEPS steps, then SPEC over the rest
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace nib::optim {

class Schedule {
 public:
  virtual ~Schedule() = default;
  // The lr for optimizer step `step` (0-based). Steps past the end keep the last value.
  virtual double lr(int64_t step) const = 0;
  virtual std::string describe() const = 0;  // "cosine(0.1 -> 0 over 5000 steps)"
};

class ConstantLR : public Schedule {
 public:
  explicit ConstantLR(double lr) : lr_(lr) {}
  double lr(int64_t) const override { return lr_; }
  std::string describe() const override;

 private:
  double lr_;
};

// base_lr × gamma^⌊step / step_size⌋ (torch's StepLR, counted in steps here).
class StepLR : public Schedule {
 public:
  StepLR(double base_lr, int64_t step_size, double gamma);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  double base_lr_;
  int64_t step_size_;
  double gamma_;
};

// min_lr + (base_lr - min_lr) (1 + cos(π step / total_steps)) / 2: half a
// cosine from base_lr at step 0 towards min_lr at total_steps.
class CosineLR : public Schedule {
 public:
  CosineLR(double base_lr, int64_t total_steps, double min_lr = 0.0);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  double base_lr_, min_lr_;
  int64_t total_steps_;
};

// Smith's 1cycle, as torch's OneCycleLR (two phases, cosine annealing): from
// max_lr / div_factor up to max_lr over the first pct_start of the steps,
// then down to max_lr / div_factor / final_div_factor at the last step.
class OneCycleLR : public Schedule {
 public:
  OneCycleLR(double max_lr, int64_t total_steps, double pct_start = 0.3, double div_factor = 25.0,
             double final_div_factor = 1e4);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  double max_lr_, initial_lr_, min_lr_;
  int64_t total_steps_;
  double peak_step_;  // where the rise ends: pct_start × total_steps - 1, as torch computes it
};

// A linear ramp over the first warmup_steps, reaching after's first value,
// then `after` (its step 0 is the first step after the warm-up).
class WarmupLR : public Schedule {
 public:
  WarmupLR(int64_t warmup_steps, std::unique_ptr<Schedule> after);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  int64_t warmup_steps_;
  std::unique_ptr<Schedule> after_;
};

// Builds a schedule from a spec (see the top of this file). total_steps is the
// whole run's optimizer steps, steps_per_epoch converts epochs into steps.
// Throws nib::Error naming the spec when it is malformed.
std::unique_ptr<Schedule> parse_schedule(const std::string& spec, float base_lr, int64_t total_steps,
                                         int64_t steps_per_epoch);

// Applies a schedule to an optimizer. Groups keep the ratios of the lrs they
// had when the Scheduler was made: a group that started at a tenth of group
// 0's lr follows the schedule at a tenth.
class Scheduler {
 public:
  Scheduler(Optimizer& optimizer, std::unique_ptr<Schedule> schedule);
  // Sets every group's lr for optimizer step `global_step`; call it before optimizer.step().
  void apply(int64_t global_step);
  const Schedule& schedule() const { return *schedule_; }

 private:
  Optimizer& optimizer_;
  std::unique_ptr<Schedule> schedule_;
  std::vector<double> group_scale_;
};

}  // namespace nib::optim
