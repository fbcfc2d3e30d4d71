// nib convert for Keras .h5 / .keras files (see `nib convert --help`).
#pragma once

#include <string>

#include "util/args.h"

namespace nib::apps {

// By the file name: .h5, .hdf5 or .keras (any case).
bool is_keras_file(const std::string& path);

// Converts IN to a run directory OUT, or to OUT.safetensors for a Keras VGG16
// or MobileNetV2, reading the Keras options from `args`. Returns the exit code.
int convert_keras(const std::string& in, const std::string& out, Args& args, int argc, char** argv);

}  // namespace nib::apps
