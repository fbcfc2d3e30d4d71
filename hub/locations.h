// Where nib looks for data and weights, and where it downloads them from.
//
//   1. the data dir: $NIB_DATA when set, otherwise the first `shared/data`
//      in the current directory or up to four levels above it, then the same
//      next to the running executable (a checkout of the project);
//   2. the cache: $NIB_HOME, default $XDG_CACHE_HOME/nib, else ~/.cache/nib.
//      Downloads go here, laid out like the data dir (mnist/, pretrained/, ...).
//
// Files come from their publishers' URLs; $NIB_MIRROR=URL replaces every
// publisher with one server (or a file:// folder) laid out like the cache:
// NIB_MIRROR=http://host/nib fetches http://host/nib/mnist/train-images-idx3-ubyte.gz.
#pragma once

#include <string>
#include <vector>

#include "hub/catalog.h"

namespace nib::hub {

// The data dir (1. above); empty when there is none. Throws when $NIB_DATA
// names something that is not a directory.
std::string data_dir();

// The cache (2. above). It need not exist yet.
std::string nib_home();

// The folders searched for a known file, in order: the data dir (when there
// is one), then the cache.
std::vector<std::string> search_roots();

// Where `file` is downloaded from: its publisher's URL, or $NIB_MIRROR/<path>.
std::string source_url(const KnownFile& file);

}  // namespace nib::hub
