// nib data: what nib can download by name, what is on this machine, and where.
//
//   nib data                      list the known data sets and weights
//   nib data fetch mnist vgg16    download (and check, and convert) them now
#include <cstdio>
#include <cstdlib>

#include "apps/commands.h"
#include "hub/fetch.h"
#include "hub/locations.h"
#include "models/imagenet_weights.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace nib::apps {

namespace {

const char* kHelp = R"(usage: nib data [fetch NAME...]

Lists the data sets and pretrained weights nib knows by name, with their
sizes and where they are on this machine. A command that needs one (nib train
--data mnist, nib classify --weights imagenet) downloads it on first use;
`nib data fetch NAME...` downloads now.

Where nib looks, in order:
  $NIB_DATA, else shared/data in or above the current directory (a checkout's data)
  $NIB_HOME, else ~/.cache/nib: the cache, where downloads go
Downloads come from each file's publisher, or from $NIB_MIRROR/<path> when
set (a server or file:// folder laid out like the cache). Every file is
checked against the SHA-256 compiled into nib. $NIB_DOWNLOAD_TIMEOUT
(seconds, default 30) bounds connecting and a stalled transfer.
)";

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// Where the item is, or what to do to get it.
std::string status(const hub::KnownItem& item) {
  if (item.kind == hub::ItemKind::Weights) {
    if (std::string converted = models::locate_converted(item); !converted.empty()) return "ready: " + converted;
    if (std::string pth = hub::locate_file(item.files.front()); !pth.empty())
      return "downloaded, converted on first use: " + pth;
  } else if (std::string folder = hub::locate_item(item); !folder.empty()) {
    return "ready: " + folder;
  }
  return "not on this machine: the first use downloads it, or `nib data fetch " + item.name + "`";
}

int list() {
  std::string data_dir = hub::data_dir();
  std::printf("data dir  %s\n", data_dir.empty() ? "(none: no $NIB_DATA, no shared/data in sight)" : data_dir.c_str());
  std::printf("cache     %s%s\n", hub::nib_home().c_str(), std::getenv("NIB_HOME") ? "  ($NIB_HOME)" : "");
  std::printf("source    %s\n", env_or("NIB_MIRROR", "each publisher (set NIB_MIRROR=URL for one mirror)").c_str());
  std::string why_not = hub::why_no_downloads();
  std::printf("download  %s\n\n", why_not.empty() ? "on (libcurl, SHA-256 checked with OpenSSL)" : ("off: " + why_not).c_str());
  for (const hub::KnownItem& item : hub::known_items()) {
    std::string size = item.bytes() > 0 ? format_bytes(item.bytes()) : "?";
    std::printf("%-17s %-9s %9s  %s: %s\n", item.name.c_str(), hub::kind_name(item.kind), size.c_str(),
                item.title.c_str(), item.description.c_str());
    std::printf("%-17s %-9s %9s  %s\n", "", "", "", status(item).c_str());
  }
  return 0;
}

int fetch(const std::vector<std::string>& names) {
  NIB_CHECK(names.size() > 1, "fetch what? Give one or more names (`nib data` lists them)");
  for (size_t i = 1; i < names.size(); ++i) hub::known_item(names[i]);  // every name checked before any download
  for (size_t i = 1; i < names.size(); ++i) {
    const hub::KnownItem& item = hub::known_item(names[i]);
    std::string where = item.kind == hub::ItemKind::Weights ? models::imagenet_weights(item.name)
                                                             : hub::ensure_item(item);
    std::printf("%s: %s\n", item.name.c_str(), where.c_str());
  }
  return 0;
}

}  // namespace

int data(int argc, char** argv) {
  Args args(argc, argv, 2, {"help"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  args.finish();
  const std::vector<std::string>& words = args.positional();
  if (words.empty()) return list();
  NIB_CHECK(words[0] == "fetch", "unknown action '", words[0], "' (nib data lists, nib data fetch NAME... downloads)");
  return fetch(words);
}

}  // namespace nib::apps
