// A run's config.json (train/run_dir.h), as nib predict, eval and
// train --resume read it: JSON, then every field checked.
#include "fuzz/fuzz_target.h"
#include "fuzz/input_file.h"
#include "train/run_dir.h"

NIB_FUZZ_TARGET(run_config) {
  nib::fuzz::InputFile file("run/config.json", data, size);
  nib::train::load_run_info(nib::fuzz::scratch_dir() + "/run");
}
