// nib_test_serve_folder DIR URL_FILE: serves DIR over HTTP on 127.0.0.1 (a
// free port) until SIGTERM or SIGINT, for app tests that download through
// NIB_MIRROR. Writes its URL ("http://127.0.0.1:PORT") to URL_FILE once it
// listens, so the test knows where it is and that it is ready.
#include <signal.h>

#include <cstdio>
#include <fstream>

#include "tests/http_test_server.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DIR URL_FILE\n", argv[0]);
    return 2;
  }
  // Block the stop signals before the server thread starts, so they wait for sigwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  nib::testing::HttpTestServer server;
  server.serve_folder(argv[1]);
  std::string url_file = argv[2];
  std::ofstream(url_file + ".tmp") << server.url() << "\n";
  std::rename((url_file + ".tmp").c_str(), url_file.c_str());

  int signal_number = 0;
  sigwait(&stop, &signal_number);
  std::fprintf(stderr, "served %d requests\n", server.requests());
  return 0;
}
