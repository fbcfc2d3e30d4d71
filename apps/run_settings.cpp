#include "apps/run_settings.h"

#include <cmath>
#include <cstdlib>

#include "device/device.h"
#include "distributed/wait.h"
#include "util/error.h"

namespace nib::apps {

RunSettings::RunSettings(Args& args, std::map<std::string, std::string> previous)
    : args_(args), previous_(std::move(previous)) {}

std::string RunSettings::text(const std::string& name, const std::string& fallback) {
  if (args_.has(name)) return settings_[name] = args_.get(name, fallback);
  auto it = previous_.find(name);
  return settings_[name] = it != previous_.end() ? it->second : fallback;
}

double RunSettings::number(const std::string& name, const std::string& fallback) {
  std::string value = text(name, fallback);
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  NIB_CHECK(!value.empty() && end && *end == '\0', "--", name, " expects a number, got '", value, "'");
  return v;
}

int64_t RunSettings::integer(const std::string& name, const std::string& fallback) {
  double v = number(name, fallback);
  NIB_CHECK(v == std::floor(v), "--", name, " expects a whole number, got '", settings_[name], "'");
  return static_cast<int64_t>(v);
}

bool RunSettings::flag(const std::string& name) {
  bool on = args_.flag(name);
  if (!on) {
    auto it = previous_.find(name);
    on = it != previous_.end() && it->second == "true";
  }
  settings_[name] = on ? "true" : "false";
  return on;
}

std::string RunSettings::toggle(const std::string& name, const std::string& fallback) {
  const bool on = args_.flag(name), off = args_.flag("no-" + name);
  NIB_CHECK(!(on && off), "--", name, " and --no-", name, " contradict each other");
  if (on || off) return settings_[name] = on ? "true" : "false";
  auto it = previous_.find(name);
  return settings_[name] = it != previous_.end() ? it->second : fallback;
}

TrainingOptions read_training_options(RunSettings& settings, Args& args, const TrainingDefaults& defaults) {
  TrainingOptions o;
  o.data.spec = settings.text("data", "mnist");
  o.data.image_size = settings.integer("image-size", defaults.image_size);
  o.data.channels = settings.integer("channels", defaults.channels);
  o.data.val_split = settings.number("val-split", "0.1");
  o.data.seed = static_cast<uint64_t>(settings.integer("seed", "1"));
  o.data.limit = settings.integer("limit", "0");

  if (!defaults.epochs.empty()) {
    read_run_length(settings, o, defaults.epochs, defaults.batch_size, defaults.lr);
  } else {
    // The command reads these once the data is loaded; asking for them now
    // tells args.finish() they are known options, not typos.
    for (const char* name : {"epochs", "batch-size", "lr"}) args.get(name, "");
  }
  o.config.label_smoothing = static_cast<float>(settings.number("label-smoothing", "0"));
  o.config.seed = o.data.seed;
  o.config.device = parse_device(args.get("device", "cpu"));
  o.config.quiet = args.flag("quiet");
  o.config.stop_after = args.get_int("stop-after", 0);

  o.optimizer = settings.text("optimizer", "adam");
  o.schedule = settings.text("schedule", defaults.schedule);
  o.momentum = settings.number("momentum", "0.9");
  o.weight_decay = settings.number("weight-decay", o.optimizer == "adamw" ? "0.01" : "0");
  o.augment = settings.text("augment", "none");
  o.out = args.get("out", "");
  o.dist_timeout = args.get_double("dist-timeout", distributed::kDefaultTimeoutSeconds);
  NIB_CHECK(o.dist_timeout > 0, "--dist-timeout must be a positive number of seconds");
  return o;
}

void read_run_length(RunSettings& settings, TrainingOptions& options, const std::string& epochs,
                     const std::string& batch_size, const std::string& lr) {
  options.config.epochs = settings.integer("epochs", epochs);
  options.config.batch_size = settings.integer("batch-size", batch_size);
  options.lr = settings.number("lr", lr);
  NIB_CHECK(options.config.epochs > 0, "--epochs must be positive");
  NIB_CHECK(options.config.batch_size > 0, "--batch-size must be positive");
}

}  // namespace nib::apps
