// The feature-extractor options that nib extract and nib index share.
#pragma once

#include "retrieval/features.h"
#include "util/args.h"

namespace nib::apps {

// Flags these options add to an Args' flag set.
inline constexpr const char* kExtractorFlags[] = {"l2", "no-l2", "global-pool"};

// Help text for the options below, to paste into a command's --help.
extern const char* kExtractorHelp;

// Reads --model --weights --layer --padding --preprocess --image-size --channels
// --center-crop --global-pool --l2/--no-l2 --batch-size --device. `l2_default`:
// whether features are L2-normalised when neither --l2 nor --no-l2 is given
// (nib index: yes, for retrieval; nib extract: no, the raw features).
retrieval::ExtractorOptions read_extractor_options(Args& args, bool l2_default = false);

}  // namespace nib::apps
