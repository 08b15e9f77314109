#pragma once

// Concurrent HTTP requests on one thread, through a libcurl multi handle. The multi handle keeps
// a cache of open connections that every later request to the same host reuses (HTTP/1.1
// keep-alive), and finished transfers keep their easy handles for the next request, so a busy
// sink opens a connection per concurrent request once and then only writes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace danube::sink_http {

struct HttpRequest {
  std::uint64_t tag = 0;  // the caller's, handed back with the response
  std::string method;     // POST, PUT, PATCH
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  std::optional<std::string> ca_file;
  bool verify_tls = true;
};

struct HttpResponse {
  std::uint64_t tag = 0;
  // Empty when the server answered (whatever the status); otherwise why no answer came
  // (connection refused, timeout, TLS failure, ...).
  std::string transport_error;
  bool timed_out = false;
  long status = 0;
  std::string body_start;                  // the first bytes of the answer, for error messages
  std::optional<std::string> retry_after;  // the Retry-After header, when present
  std::chrono::duration<double> elapsed{};

  bool answered() const { return transport_error.empty(); }
};

class HttpClient {
 public:
  // At most `max_connections` connections are kept open for reuse.
  HttpClient(std::size_t max_connections, std::string user_agent);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a request; its response comes from a later wait().
  void start(HttpRequest request);
  // Drives the transfers for up to `timeout` and returns those that finished (possibly none);
  // returns early as soon as one finishes. With nothing in flight it just waits.
  std::vector<HttpResponse> wait(std::chrono::milliseconds timeout);
  std::size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danube::sink_http
