// A tiny HTTP/1.1 server on 127.0.0.1 for the download tests: it runs on its
// own thread from construction to destruction, answers GET requests one at a
// time (Connection: close), and can misbehave on purpose, so every failure a
// real server or network can cause is reproduced exactly and offline:
//
//   HttpTestServer server;                       // a free port on 127.0.0.1
//   server.serve("/mnist/a.gz", {.body = bytes});               // 200 with the bytes
//   server.serve("/b.gz", {.body = bytes, .send_bytes = 100});  // announces all, sends 100, closes
//   server.serve("/c.gz", {.body = bytes, .send_bytes = 100, .stall = true});  // ... then hangs
//   server.serve("/d.gz", {.status = 500});
//   setenv("NIB_MIRROR", server.url().c_str(), 1);
//
// Paths not served explicitly come from serve_folder(dir) when one is set
// (dir/<path>), else get 404. requests() counts what was asked, so a test can
// prove that nothing was.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace nib::testing {

struct HttpResponse {
  int status = 200;
  std::string body;
  size_t send_bytes = std::string::npos;  // send only the first N bytes of the body (Content-Length stays whole)
  bool stall = false;                     // after sending, keep the connection open without sending more
};

class HttpTestServer {
 public:
  HttpTestServer();
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  void serve(const std::string& path, HttpResponse response);
  void serve_folder(const std::string& dir);
  std::string url() const;  // "http://127.0.0.1:<port>"
  int requests() const { return requests_; }

 private:
  void run();
  void answer(int client);
  HttpResponse response_for(const std::string& path);
  // Waits, without sending, until the client hangs up or the server stops.
  void hold(int client);

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::map<std::string, HttpResponse> responses_;
  std::string folder_;
  std::thread thread_;
};

}  // namespace nib::testing
