// The feature-extractor options that nib extract and nib index share.
#pragma once

#include "retrieval/features.h"
#include "util/args.h"

namespace nib::apps {

// Flags these options add to an Args' flag set.
inline constexpr const char* kExtractorFlags[] = {"l2", "global-pool"};

// Help text for the options below, to paste into a command's --help.
extern const char* kExtractorHelp;

// Reads --model --weights --layer --padding --preprocess --image-size --channels
// --center-crop --global-pool --l2 --batch-size --device.
retrieval::ExtractorOptions read_extractor_options(Args& args);

}  // namespace nib::apps
