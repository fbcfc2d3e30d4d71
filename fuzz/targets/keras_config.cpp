// A Keras model's configuration (models/keras/model_config.h): the JSON that
// a .h5 file keeps in its model_config attribute and a .keras file in
// config.json, parsed and turned into the layer graph nib builds from. The
// HDF5 container itself is read by Debian's libhdf5, not by nib, and is not
// fuzzed here (docs/reliability.md).
#include <string_view>

#include "fuzz/fuzz_target.h"
#include "models/keras/model_config.h"
#include "util/json.h"

NIB_FUZZ_TARGET(keras_config) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nib::formats::keras::parse_model_config(nib::json::parse(text, "model_config"), "fuzz.h5");
}
