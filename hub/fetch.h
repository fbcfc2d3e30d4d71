// Getting a known file onto this machine: found where it already is (the data
// dir, then the cache; see hub/locations.h), or downloaded into the cache.
//
// A download (from hub::source_url) streams into a temporary file next to its
// destination while its SHA-256 is computed; only a file with the published
// size and digest is renamed into place (util/files.h: write_file_atomic).
// Anything else (an HTTP error, no network, a stalled server, a transfer cut
// short, a wrong digest) is one nib::Error that names the URL, says what
// happened and where to put the file by hand, and leaves nothing in the cache.
//
// $NIB_DOWNLOAD_TIMEOUT (seconds, default 30): how long connecting may take,
// and how long a transfer may go without receiving a byte.
#pragma once

#include <string>

#include "hub/catalog.h"

namespace nib::hub {

// Whether this build can download: "" when it can, else why not ("nib was
// built without libcurl ..."). Files can then still be put in place by hand.
std::string why_no_downloads();

// The first <root>/<file.path> over search_roots() that exists; "" when none does.
std::string locate_file(const KnownFile& file);

// Downloads `file` to <cache>/<file.path> (replacing what is there) and
// returns that path. Says on stderr what it fetches, how big, and where it put it.
std::string download_file(const KnownFile& file);

// locate_file, else download_file.
std::string ensure_file(const KnownFile& file);

// The folder <root>/<item.folder()> of the first root that holds all of the
// item's files; "" when none does.
std::string locate_item(const KnownItem& item);

// locate_item, else the cache's folder for the item after downloading the
// files it lacks (the total size is announced first).
std::string ensure_item(const KnownItem& item);

}  // namespace nib::hub
