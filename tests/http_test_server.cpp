#include "tests/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace nib::testing {

namespace {

void send_all(int socket, const char* data, size_t size) {
  while (size > 0) {
    ssize_t sent = ::send(socket, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return;  // the client left; nothing to do about it
    data += sent;
    size -= static_cast<size_t>(sent);
  }
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

}  // namespace

HttpTestServer::HttpTestServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // any free port
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 16) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("HttpTestServer: cannot listen on 127.0.0.1");
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

void HttpTestServer::serve(const std::string& path, HttpResponse response) {
  std::lock_guard<std::mutex> lock(mutex_);
  responses_[path] = std::move(response);
}

void HttpTestServer::serve_folder(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mutex_);
  folder_ = dir;
}

std::string HttpTestServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpTestServer::run() {
  while (!stopping_) {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 50) <= 0) continue;  // wake up regularly to notice stopping_
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

void HttpTestServer::answer(int client) {
  // The request line and headers; nothing the tests send has a body.
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos && !stopping_) {
    pollfd readable{client, POLLIN, 0};
    if (::poll(&readable, 1, 50) <= 0) continue;
    ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  size_t path_start = request.find(' ') + 1;
  std::string path = request.substr(path_start, request.find(' ', path_start) - path_start);
  ++requests_;

  HttpResponse response = response_for(path);
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) +
                     "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\nConnection: close\r\n\r\n";
  send_all(client, head.data(), head.size());
  send_all(client, response.body.data(), std::min(response.send_bytes, response.body.size()));
  if (response.stall) hold(client);
  ::shutdown(client, SHUT_WR);
}

HttpResponse HttpTestServer::response_for(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = responses_.find(path); it != responses_.end()) return it->second;
  if (!folder_.empty() && path.find("..") == std::string::npos) {
    std::ifstream in(folder_ + path, std::ios::binary);
    if (in) return {200, std::string(std::istreambuf_iterator<char>(in), {})};
  }
  return {404, "not found\n"};
}

void HttpTestServer::hold(int client) {
  char buffer[256];
  while (!stopping_) {
    pollfd readable{client, POLLIN, 0};
    if (::poll(&readable, 1, 50) > 0 && ::recv(client, buffer, sizeof buffer, 0) <= 0) return;
  }
}

}  // namespace nib::testing
