// Reader for the torch optimizer and lr-schedule fixtures in tests/fixtures/optim/
// (format: tests/fixtures/optim/README.md; written by tools/fixtures/optim.py).
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "util/error.h"

namespace nib::testing {

struct OptimizerCase {
  struct Group {
    float lr = 0, weight_decay = 0;
  };
  struct Param {
    size_t group = 0;
    std::vector<float> init;
  };
  struct Step {
    std::map<size_t, std::vector<float>> grads;  // parameters without an entry have no gradient
    std::vector<std::vector<float>> expect;      // every parameter after the step
    // Optimizer state after the step: {parameter, field} -> values ("step": one value).
    std::map<std::pair<size_t, std::string>, std::vector<float>> state;
  };
  std::string name, kind;                 // kind: sgd, adam, adamw
  std::map<std::string, float> options;   // momentum, dampening, nesterov / beta1, beta2, eps
  std::vector<Group> groups;
  std::vector<Param> params;
  std::vector<Step> steps;
};

struct ScheduleCase {
  std::string spec;
  float base_lr = 0;
  int64_t total_steps = 0, steps_per_epoch = 0;
  std::vector<double> lrs;  // for steps 0, 1, ...
};

namespace fixture_detail {

inline std::vector<std::string> lines_of(const std::string& file) {
  std::string path = std::string(NIB_FIXTURE_DIR) + "/optim/" + file;
  std::ifstream in(path);
  NIB_CHECK(in.good(), "cannot open fixture ", path, " (run /usr/bin/python3 tools/fixtures/optim.py)");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

// "key=value" -> {key, value}
inline std::pair<std::string, std::string> key_value(const std::string& token) {
  auto eq = token.find('=');
  NIB_CHECK(eq != std::string::npos, "fixture: expected key=value, got '", token, "'");
  return {token.substr(0, eq), token.substr(eq + 1)};
}

inline float to_float(const std::string& text) { return std::strtof(text.c_str(), nullptr); }

template <class T>
std::vector<T> rest_of(std::istringstream& in) {
  std::vector<T> values;
  for (std::string token; in >> token;) values.push_back(static_cast<T>(std::strtod(token.c_str(), nullptr)));
  return values;
}

// strtod then a cast to float would round twice; strtof reads float32 text exactly.
inline std::vector<float> floats_of(std::istringstream& in) {
  std::vector<float> values;
  for (std::string token; in >> token;) values.push_back(to_float(token));
  return values;
}

}  // namespace fixture_detail

inline std::vector<OptimizerCase> read_optimizer_cases() {
  using namespace fixture_detail;
  std::vector<OptimizerCase> cases;
  for (const std::string& line : lines_of("optimizers.txt")) {
    std::istringstream in(line);
    std::string record;
    in >> record;
    if (record == "case") {
      OptimizerCase c;
      in >> c.name >> c.kind;
      for (std::string token; in >> token;) {
        auto [key, value] = key_value(token);
        c.options[key] = to_float(value);
      }
      cases.push_back(c);
      continue;
    }
    NIB_CHECK(!cases.empty(), "fixture: '", record, "' before the first case");
    OptimizerCase& c = cases.back();
    if (record == "group") {
      size_t index;
      std::string lr, wd;
      in >> index >> lr >> wd;
      c.groups.push_back({to_float(key_value(lr).second), to_float(key_value(wd).second)});
    } else if (record == "param") {
      size_t group, n;
      in >> group >> n;
      c.params.push_back({group, floats_of(in)});
      NIB_CHECK(c.params.back().init.size() == n, "fixture: param with ", n, " values expected");
    } else if (record == "grad") {
      if (c.steps.empty() || !c.steps.back().expect.empty()) c.steps.emplace_back();
      size_t k;
      in >> k;
      c.steps.back().grads[k] = floats_of(in);
    } else if (record == "step") {
      if (c.steps.empty() || !c.steps.back().expect.empty()) c.steps.emplace_back();  // a step with no gradients
    } else if (record == "expect") {
      size_t k;
      in >> k;
      c.steps.back().expect.push_back(floats_of(in));
    } else if (record == "state") {
      size_t k;
      std::string field;
      in >> k >> field;
      c.steps.back().state[{k, field}] = floats_of(in);
    } else if (record != "end") {
      fail("fixture optimizers.txt: unknown record '", record, "'");
    }
  }
  return cases;
}

inline const OptimizerCase& optimizer_case(const std::vector<OptimizerCase>& cases, const std::string& name) {
  for (const auto& c : cases)
    if (c.name == name) return c;
  fail("fixture optimizers.txt has no case '", name, "'");
}

inline std::vector<ScheduleCase> read_schedule_cases() {
  using namespace fixture_detail;
  std::vector<ScheduleCase> cases;
  for (const std::string& line : lines_of("schedules.txt")) {
    std::istringstream in(line);
    std::string record;
    in >> record;
    if (record == "schedule") {
      ScheduleCase c;
      in >> c.spec;
      for (std::string token; in >> token;) {
        auto [key, value] = key_value(token);
        if (key == "base_lr") c.base_lr = to_float(value);
        if (key == "total_steps") c.total_steps = std::stoll(value);
        if (key == "steps_per_epoch") c.steps_per_epoch = std::stoll(value);
      }
      cases.push_back(c);
    } else if (record == "lrs") {
      NIB_CHECK(!cases.empty(), "fixture schedules.txt: lrs before a schedule");
      cases.back().lrs = rest_of<double>(in);
    } else {
      fail("fixture schedules.txt: unknown record '", record, "'");
    }
  }
  return cases;
}

}  // namespace nib::testing
