// A small HTTP/1.1 server for debug, metrics and readiness endpoints (bound to localhost by
// default). Handlers are plain functions from a request to a response; one thread serves all.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace ambit::http {

struct Request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', may be empty
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<Response(const Request&)>;

  // Binds to address:port (port 0 picks a free port); serving starts with start().
  static absl::StatusOr<std::unique_ptr<AdminServer>> create(const std::string& address,
                                                             uint16_t port);
  ~AdminServer();

  // Registers a handler for an exact path; call before start(). Handlers answer GET and HEAD;
  // one registered with `accept_post` answers POST too (an endpoint that changes state; the
  // request body is not read, so the arguments go in the query).
  void handle(const std::string& path, Handler handler, bool accept_post = false);
  void start();
  void stop();
  uint16_t port() const;

 private:
  struct Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ambit::http
