// Downloading one URL (http://, https://, file://) with libcurl, streaming the
// body to a sink as it arrives, so a 500 MB checkpoint never sits in memory.
//
// Every failure throws a nib::Error that starts with the URL and says what
// happened: the HTTP status the server answered, a refused or failed
// connection, no data for `timeout_seconds` (a stalled server), or a transfer
// cut short before the length the server announced. The bytes already passed
// to the sink are then not a whole file; the caller throws them away.
//
// nib builds without libcurl too; then http_get throws a nib::Error saying so
// (http_available() tells beforehand).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "util/files.h"

namespace nib {

bool http_available();

struct HttpGetOptions {
  // Give up when connecting takes longer, or when no byte arrives for this long.
  int timeout_seconds = 30;
  // Called as bytes arrive: received so far, and the length the server
  // announced (0 when it did not say).
  std::function<void(int64_t received, int64_t total)> progress;
};

void http_get(const std::string& url, const ByteSink& sink, const HttpGetOptions& options = {});

}  // namespace nib
