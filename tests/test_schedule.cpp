// Learning-rate schedules against torch.optim.lr_scheduler (fixtures from
// tools/fixtures/optim.py), the spec parser, and the Scheduler.
#include <cmath>

#include "optim/optim.h"
#include "tests/helpers.h"
#include "tests/optim_fixture.h"

using namespace nib;
using namespace nib::optim;

TEST_CASE("schedules give torch's learning rates (constant, step, cosine, onecycle)") {
  auto cases = nib::testing::read_schedule_cases();
  CHECK(cases.size() >= 6);
  for (const auto& c : cases) {
    std::string label = c.spec + " over " + std::to_string(c.total_steps);
    SUBCASE(label.c_str()) {
      auto schedule = parse_schedule(c.spec, c.base_lr, c.total_steps, c.steps_per_epoch);
      REQUIRE(static_cast<int64_t>(c.lrs.size()) == c.total_steps);
      for (size_t step = 0; step < c.lrs.size(); ++step) {
        INFO(schedule->describe() << " at step " << step << ": " << schedule->lr(step) << " vs torch " << c.lrs[step]);
        CHECK(std::fabs(schedule->lr(step) - c.lrs[step]) <= 1e-9 * c.lrs[step]);
      }
    }
  }
}

TEST_CASE("a warm-up ramps linearly to the next schedule's start, which then runs over the rest") {
  auto schedule = parse_schedule("warmup:5+cosine", 0.1f, 25, 10);
  CosineLR cosine(0.1f, 20);
  for (int64_t step = 0; step < 5; ++step) CHECK(schedule->lr(step) == doctest::Approx(0.1f * (step + 1) / 5.0));
  for (int64_t step = 5; step < 25; ++step) CHECK(schedule->lr(step) == cosine.lr(step - 5));
  // A warm-up alone holds the base lr afterwards.
  auto alone = parse_schedule("warmup:4", 0.2f, 10, 1);
  CHECK(alone->lr(9) == doctest::Approx(0.2f));
  CHECK(alone->lr(0) == doctest::Approx(0.05f));
}

TEST_CASE("schedules hold their last value past the end") {
  OneCycleLR one(0.1, 10);
  CHECK(one.lr(50) == one.lr(9));
  CosineLR cos(0.1, 10, 0.01);
  CHECK(cos.lr(10) == doctest::Approx(0.01));
  CHECK(cos.lr(100) == cos.lr(10));
  StepLR step(1.0, 2, 0.5);
  CHECK(step.lr(0) == 1.0);
  CHECK(step.lr(3) == 0.5);
  CHECK(step.lr(4) == 0.25);
}

TEST_CASE("bad schedule specs are errors that name the spec") {
  auto rejects = [](const std::string& spec, const char* message) {
    INFO(spec);
    std::string quoted = "'" + spec + "'";
    CHECK_THROWS_WITH_AS(parse_schedule(spec, 0.1f, 100, 10), doctest::Contains(message), nib::Error);
    CHECK_THROWS_WITH_AS(parse_schedule(spec, 0.1f, 100, 10), doctest::Contains(quoted.c_str()), nib::Error);
  };
  rejects("linear", "unknown schedule 'linear'");
  rejects("step", "takes from 1 to 2 argument");
  rejects("step:x:0.5", "'x' is not a number");
  rejects("step:2.5", "whole number");
  rejects("cosine:1:2", "argument");
  rejects("onecycle:0.3", "PCT:DIV:FINAL_DIV");
  rejects("onecycle:1.5:25:1e4", "pct_start must be in (0, 1)");
  rejects("warmup:abc+cosine", "not a number");
  rejects("warmup:200+cosine", "shorter than the run");
  rejects("warmup:10+nope", "unknown schedule 'nope'");
}

TEST_CASE("the Scheduler sets every group's lr, keeping the groups' ratios") {
  Tensor a = Tensor::ones({2}).set_requires_grad(true);
  Tensor b = Tensor::ones({2}).set_requires_grad(true);
  SGD sgd({a}, {.lr = 0.1f});
  sgd.add_param_group({{b}, 0.01f, 0.0f});
  Scheduler scheduler(sgd, parse_schedule("step:1:0.5", 0.1f, 10, 2));
  scheduler.apply(0);
  CHECK(sgd.lr(0) == 0.1f);
  CHECK(sgd.lr(1) == doctest::Approx(0.01f));
  scheduler.apply(2);
  CHECK(sgd.lr(0) == 0.05f);
  CHECK(sgd.lr(1) == doctest::Approx(0.005f));
  scheduler.apply(5);
  CHECK(sgd.lr(0) == 0.025f);
}

TEST_CASE("a Scheduler made before a group was added says so") {
  Tensor a = Tensor::ones({2}).set_requires_grad(true);
  Tensor b = Tensor::ones({2}).set_requires_grad(true);
  SGD sgd({a}, {.lr = 0.1f});
  Scheduler scheduler(sgd, std::make_unique<ConstantLR>(0.1));
  sgd.add_param_group({{b}, 0.01f, 0.0f});
  CHECK_THROWS_WITH_AS(scheduler.apply(0), doctest::Contains("after adding every group"), nib::Error);
}
