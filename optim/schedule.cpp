#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>

namespace nib::optim {

// ---- The schedules -----------------------------------------------------------

std::string ConstantLR::describe() const { return str("constant(", lr_, ")"); }

StepLR::StepLR(double base_lr, int64_t step_size, double gamma)
    : base_lr_(base_lr), step_size_(step_size), gamma_(gamma) {
  NIB_CHECK(step_size > 0, "StepLR: step_size must be > 0, got ", step_size);
}

double StepLR::lr(int64_t step) const {
  return base_lr_ * std::pow(gamma_, static_cast<double>(std::max<int64_t>(step, 0) / step_size_));
}

std::string StepLR::describe() const { return str("step(", base_lr_, " x ", gamma_, " every ", step_size_, " steps)"); }

CosineLR::CosineLR(double base_lr, int64_t total_steps, double min_lr)
    : base_lr_(base_lr), min_lr_(min_lr), total_steps_(total_steps) {
  NIB_CHECK(total_steps > 0, "CosineLR: total_steps must be > 0, got ", total_steps);
}

double CosineLR::lr(int64_t step) const {
  double t = static_cast<double>(std::clamp<int64_t>(step, 0, total_steps_));
  return min_lr_ + (base_lr_ - min_lr_) * (1.0 + std::cos(std::numbers::pi * t / total_steps_)) / 2.0;
}

std::string CosineLR::describe() const {
  return str("cosine(", base_lr_, " -> ", min_lr_, " over ", total_steps_, " steps)");
}

OneCycleLR::OneCycleLR(double max_lr, int64_t total_steps, double pct_start, double div_factor,
                       double final_div_factor)
    : max_lr_(max_lr),
      initial_lr_(max_lr / div_factor),
      min_lr_(max_lr / div_factor / final_div_factor),
      total_steps_(total_steps),
      peak_step_(pct_start * static_cast<double>(total_steps) - 1.0) {
  NIB_CHECK(total_steps > 1, "OneCycleLR: total_steps must be > 1, got ", total_steps);
  NIB_CHECK(pct_start > 0.0 && pct_start < 1.0, "OneCycleLR: pct_start must be in (0, 1), got ", pct_start);
  NIB_CHECK(div_factor > 0.0 && final_div_factor > 0.0, "OneCycleLR: the div factors must be > 0");
}

double OneCycleLR::lr(int64_t step) const {
  // torch's _annealing_cos: from `start` at pct = 0 to `end` at pct = 1.
  auto anneal = [](double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  };
  double s = static_cast<double>(std::clamp<int64_t>(step, 0, total_steps_ - 1));
  if (s <= peak_step_ && peak_step_ > 0.0) return anneal(initial_lr_, max_lr_, s / peak_step_);
  double start = std::max(peak_step_, 0.0), end = static_cast<double>(total_steps_ - 1);
  return anneal(max_lr_, min_lr_, (s - start) / (end - start));
}

std::string OneCycleLR::describe() const {
  return str("onecycle(", initial_lr_, " -> ", max_lr_, " -> ", min_lr_, " over ", total_steps_, " steps)");
}

WarmupLR::WarmupLR(int64_t warmup_steps, std::unique_ptr<Schedule> after)
    : warmup_steps_(warmup_steps), after_(std::move(after)) {
  NIB_CHECK(warmup_steps > 0, "WarmupLR: warmup_steps must be > 0, got ", warmup_steps);
  NIB_CHECK(after_ != nullptr, "WarmupLR: no schedule to follow the warm-up");
}

double WarmupLR::lr(int64_t step) const {
  // (step + 1) / warmup: the first update already moves, the last reaches the target.
  if (step < warmup_steps_)
    return after_->lr(0) * static_cast<double>(std::max<int64_t>(step, 0) + 1) / static_cast<double>(warmup_steps_);
  return after_->lr(step - warmup_steps_);
}

std::string WarmupLR::describe() const { return str("warmup(", warmup_steps_, " steps) then ", after_->describe()); }

// ---- Parsing specs -------------------------------------------------------------

namespace {

const char* kSpecHelp =
    "expected constant, step:EPOCHS[:GAMMA], cosine[:MIN_LR], onecycle[:PCT:DIV:FINAL_DIV] or warmup:STEPS+SPEC";

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = text.find(sep, start)) != std::string::npos; start = pos + 1)
    parts.push_back(text.substr(start, pos - start));
  parts.push_back(text.substr(start));
  return parts;
}

double parse_number(const std::string& spec, const std::string& text, const char* what) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  NIB_CHECK(!text.empty() && end == text.c_str() + text.size() && std::isfinite(value), "lr schedule '", spec,
            "': ", what, " '", text, "' is not a number");
  return value;
}

int64_t parse_count(const std::string& spec, const std::string& text, const char* what) {
  double value = parse_number(spec, text, what);
  NIB_CHECK(value > 0 && value == std::floor(value), "lr schedule '", spec, "': ", what, " must be a whole number > 0, got '",
            text, "'");
  return static_cast<int64_t>(value);
}

// Builds `part` of the user's `spec` (all of it, or what follows a warm-up).
// Messages quote the whole spec, which is what the user typed.
std::unique_ptr<Schedule> build(const std::string& spec, const std::string& part, double lr, int64_t total_steps,
                                int64_t steps_per_epoch) {
  // warmup:STEPS+REST splits at the first '+'; REST is a spec of its own.
  if (part.rfind("warmup:", 0) == 0) {
    size_t plus = part.find('+');
    std::string steps_text = part.substr(7, plus == std::string::npos ? std::string::npos : plus - 7);
    int64_t warmup = parse_count(spec, steps_text, "the warm-up step count");
    NIB_CHECK(warmup < total_steps, "lr schedule '", spec, "': the warm-up (", warmup,
              " steps) must be shorter than the run (", total_steps, " steps)");
    std::string rest = plus == std::string::npos ? "constant" : part.substr(plus + 1);
    return std::make_unique<WarmupLR>(warmup, build(spec, rest, lr, total_steps - warmup, steps_per_epoch));
  }

  std::vector<std::string> parts = split(part, ':');
  const std::string& name = parts[0];
  size_t args = parts.size() - 1;
  auto arity = [&](size_t lo, size_t hi) {
    NIB_CHECK(args >= lo && args <= hi, "lr schedule '", spec, "': ", name, " takes ", lo == hi ? "" : "from ", lo,
              lo == hi ? "" : str(" to ", hi), " argument(s), got ", args, " (", kSpecHelp, ")");
  };

  if (name == "constant") {
    arity(0, 0);
    return std::make_unique<ConstantLR>(lr);
  }
  if (name == "step") {
    arity(1, 2);
    int64_t epochs = parse_count(spec, parts[1], "the epoch count");
    double gamma = args == 2 ? parse_number(spec, parts[2], "gamma") : 0.1;
    return std::make_unique<StepLR>(lr, epochs * steps_per_epoch, gamma);
  }
  if (name == "cosine") {
    arity(0, 1);
    double min_lr = args == 1 ? parse_number(spec, parts[1], "the minimum lr") : 0.0;
    return std::make_unique<CosineLR>(lr, total_steps, min_lr);
  }
  if (name == "onecycle") {
    NIB_CHECK(args == 0 || args == 3, "lr schedule '", spec, "': onecycle takes no arguments or all three of ",
              "PCT:DIV:FINAL_DIV");
    if (args == 0) return std::make_unique<OneCycleLR>(lr, total_steps);
    return std::make_unique<OneCycleLR>(lr, total_steps, parse_number(spec, parts[1], "pct_start"),
                                        parse_number(spec, parts[2], "div_factor"),
                                        parse_number(spec, parts[3], "final_div_factor"));
  }
  fail("lr schedule '", spec, "': unknown schedule '", name, "' (", kSpecHelp, ")");
}

}  // namespace

std::unique_ptr<Schedule> parse_schedule(const std::string& spec, float base_lr, int64_t total_steps,
                                         int64_t steps_per_epoch) {
  NIB_CHECK(total_steps > 0 && steps_per_epoch > 0, "lr schedule '", spec,
            "': total_steps and steps_per_epoch must be > 0, got ", total_steps, " and ", steps_per_epoch);
  const std::string prefix = "lr schedule '" + spec + "'";
  try {
    return build(spec, spec, base_lr, total_steps, steps_per_epoch);
  } catch (const Error& e) {
    // The schedules' own checks (a pct_start out of range) do not know the spec.
    if (std::string(e.what()).rfind(prefix, 0) == 0) throw;
    fail(prefix, ": ", e.what());
  }
}

// ---- Scheduler ----------------------------------------------------------------

Scheduler::Scheduler(Optimizer& optimizer, std::unique_ptr<Schedule> schedule)
    : optimizer_(optimizer), schedule_(std::move(schedule)) {
  NIB_CHECK(schedule_ != nullptr, "Scheduler: no schedule");
  NIB_CHECK(!optimizer.param_groups().empty(), "Scheduler: the optimizer has no parameter groups");
  double first = optimizer.lr(0);
  for (const ParamGroup& group : optimizer.param_groups())
    group_scale_.push_back(first == 0.0 ? 1.0 : static_cast<double>(group.lr) / first);
}

void Scheduler::apply(int64_t global_step) {
  NIB_CHECK(optimizer_.param_groups().size() == group_scale_.size(), "Scheduler: the optimizer has ",
            optimizer_.param_groups().size(), " parameter groups but had ", group_scale_.size(),
            " when the Scheduler was made; make the Scheduler after adding every group");
  double lr = schedule_->lr(global_step);
  for (size_t g = 0; g < group_scale_.size(); ++g) optimizer_.set_lr(g, static_cast<float>(lr * group_scale_[g]));
}

}  // namespace nib::optim
