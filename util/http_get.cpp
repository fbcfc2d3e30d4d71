#include "util/http_get.h"

#include <chrono>
#include <exception>
#include <memory>
#include <mutex>

#include "util/error.h"

#ifdef NIB_HAVE_CURL
#include <curl/curl.h>
#endif

namespace nib {

#ifdef NIB_HAVE_CURL

namespace {

using Clock = std::chrono::steady_clock;

// What the C callbacks need; an exception thrown by the sink or the progress
// function cannot cross libcurl's C frames, so it waits here until
// curl_easy_perform has returned.
struct Transfer {
  const ByteSink* sink;
  const HttpGetOptions* options;
  std::exception_ptr error;
  // For the stall check: when the last byte arrived. (libcurl's own
  // LOW_SPEED_TIME averages the speed over several seconds, so a server that
  // stops after a burst would be noticed only seconds later.)
  int64_t received = 0;
  Clock::time_point last_byte = Clock::now();
  bool stalled = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  try {
    (*transfer->sink)(data, size * count);
    return size * count;
  } catch (...) {
    transfer->error = std::current_exception();
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
}

// libcurl calls this as data arrives and about once a second while none does.
int on_progress(void* user, curl_off_t total, curl_off_t received, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  Clock::time_point now = Clock::now();
  if (received > transfer->received) {
    transfer->received = received;
    transfer->last_byte = now;
  } else if (now - transfer->last_byte >= std::chrono::seconds(transfer->options->timeout_seconds)) {
    transfer->stalled = true;
    return 1;  // aborts the transfer
  }
  try {
    if (transfer->options->progress) transfer->options->progress(received, total);
    return 0;
  } catch (...) {
    transfer->error = std::current_exception();
    return 1;  // aborts the transfer
  }
}

// The reason in words, for the message that follows the URL.
std::string describe_failure(CURLcode code, CURL* curl, const char* detail, int timeout_seconds, bool stalled) {
  std::string more = detail && *detail ? std::string(" (") + detail + ")" : "";
  if (stalled) return str("timed out: no data for ", timeout_seconds, " s");
  switch (code) {
    case CURLE_HTTP_RETURNED_ERROR: {
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      return str("the server answered HTTP ", status, status == 404 ? " (not found)" : "");
    }
    case CURLE_OPERATION_TIMEDOUT:
      return str("timed out after ", timeout_seconds, " s", more);
    case CURLE_PARTIAL_FILE:
      return "the transfer was cut short" + more;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return "cannot connect, no network or no server there" + more;
    default:
      return curl_easy_strerror(code) + more;
  }
}

}  // namespace

bool http_available() { return true; }

void http_get(const std::string& url, const ByteSink& sink, const HttpGetOptions& options) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  NIB_CHECK(curl, url, ": libcurl could not start a transfer");
  Transfer transfer{&sink, &options, nullptr};
  char detail[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);     // HTTP >= 400 is an error, not a body to save
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);  // publishers move files behind redirects
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);        // timeouts without SIGALRM: safe in threads
  curl_easy_setopt(c, CURLOPT_USERAGENT, "nib");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.timeout_seconds));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

  CURLcode code = curl_easy_perform(c);
  if (transfer.error) std::rethrow_exception(transfer.error);
  NIB_CHECK(code == CURLE_OK, url, ": ", describe_failure(code, c, detail, options.timeout_seconds, transfer.stalled));
}

#else  // built without libcurl

bool http_available() { return false; }

void http_get(const std::string& url, const ByteSink&, const HttpGetOptions&) {
  fail(url, ": nib was built without libcurl, so it cannot download (Debian: install libcurl4-openssl-dev and "
       "rebuild)");
}

#endif

}  // namespace nib
