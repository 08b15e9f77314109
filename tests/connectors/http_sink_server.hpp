#pragma once

// An HTTP endpoint for danube-sink-http's tests and benchmark: civetweb in the test process,
// keep-alive on, answering each request with what a test's responder decides (any status,
// headers such as Retry-After, a delay) and recording what it received.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace danube::http_sink_test {

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  int status = 0;  // what the server answered
  int remote_port = 0;
  std::chrono::steady_clock::time_point received_at;  // the client's: one per connection

  std::string header(const std::string& lower_case_name) const {
    const auto found = headers.find(lower_case_name);
    return found == headers.end() ? std::string() : found->second;
  }
};

struct Reply {
  int status = 200;
  std::string body = "ok";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before answering
};

// Decides the answer to a request; called concurrently from the server's threads.
using Responder = std::function<Reply(const ReceivedRequest&)>;

class HttpTestServer {
 public:
  struct Options {
    int threads = 16;
    // false: keep no request, only count them (and their records through count_records).
    bool keep_requests = true;
    // How many records a request carries; by default 1.
    std::function<std::uint64_t(const ReceivedRequest&)> count_records;
  };

  explicit HttpTestServer(Responder responder);
  HttpTestServer(Responder responder, Options options);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;

  // Every request so far, in the order the server finished reading them.
  std::vector<ReceivedRequest> requests() const;
  std::uint64_t request_count() const;
  // Records in requests answered 2xx (see Options::count_records).
  std::uint64_t delivered_records() const;
  // Waits until `condition` (called under the server's lock with every request so far) holds.
  bool wait_until(const std::function<bool(const std::vector<ReceivedRequest>&)>& condition,
                  std::chrono::milliseconds timeout) const;
  bool wait_for_delivered(std::uint64_t records, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace danube::http_sink_test
