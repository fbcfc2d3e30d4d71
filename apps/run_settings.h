// The settings of a training run, remembered in its config.json so that
// `--resume DIR` continues with exactly the same ones.
//
// A value given on the command line wins; else the resumed run's value;
// else the default. Every value read is recorded (as text), and all() is
// what config.json stores.
#pragma once

#include <map>
#include <string>

#include "train/trainer.h"
#include "train/training_data.h"
#include "util/args.h"

namespace nib::apps {

class RunSettings {
 public:
  // `previous`: the settings of the run being resumed (empty for a new run).
  RunSettings(Args& args, std::map<std::string, std::string> previous);

  std::string text(const std::string& name, const std::string& fallback);
  // Throws "--name expects a number, got '...'" for anything else.
  double number(const std::string& name, const std::string& fallback);
  int64_t integer(const std::string& name, const std::string& fallback);
  // A boolean --flag: given now, or set in the resumed run.
  bool flag(const std::string& name);
  // A flag with an opposite and a default that is decided later: "true" for
  // --name, "false" for --no-name, else the resumed run's value, else
  // `fallback` (e.g. "auto"). Both flags must be declared to Args.
  std::string toggle(const std::string& name, const std::string& fallback);
  // Whether --name was given on this command line (not a default, not resumed).
  bool given(const std::string& name) const { return args_.has(name); }

  const std::map<std::string, std::string>& all() const { return settings_; }

 private:
  Args& args_;
  std::map<std::string, std::string> previous_;
  std::map<std::string, std::string> settings_;
};

// The options nib train and nib finetune both take (data, epochs, batch,
// optimiser, schedule, augmentation, run), read through `settings` with each
// command's own defaults for the few that differ.
struct TrainingDefaults {
  std::string image_size;  // "0": as the data comes
  std::string channels;    // "0": as the data comes
  // Empty epochs, batch_size and lr: the command reads them itself with
  // read_run_length once the data is loaded (nib train decides by its size).
  std::string epochs;
  std::string batch_size;
  std::string lr;
  std::string schedule;
};

struct TrainingOptions {
  train::DataOptions data;
  train::TrainConfig config;  // with --device, --quiet and --stop-after (not settings of the run) applied
  std::string optimizer, schedule, augment;
  double lr = 0, momentum = 0, weight_decay = 0;
  std::string out;  // --out: "" = a fresh directory under runs/
  double dist_timeout = 0;  // --dist-timeout: seconds a rank waits for the others before stopping with an error
};

TrainingOptions read_training_options(RunSettings& settings, Args& args, const TrainingDefaults& defaults);

// Reads --epochs, --batch-size and --lr into `options` with these defaults,
// and checks them.
void read_run_length(RunSettings& settings, TrainingOptions& options, const std::string& epochs,
                     const std::string& batch_size, const std::string& lr);

}  // namespace nib::apps
