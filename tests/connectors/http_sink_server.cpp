#include "http_sink_server.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>
#include <thread>

namespace danube::http_sink_test {

struct HttpTestServer::Impl {
  Responder responder;
  Options options;
  mg_context* context = nullptr;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<ReceivedRequest> requests;
  std::uint64_t request_count = 0;
  std::uint64_t delivered_records = 0;

  static int handle(mg_connection* connection, void* user_data) {
    auto& self = *static_cast<Impl*>(user_data);
    const mg_request_info* info = mg_get_request_info(connection);
    ReceivedRequest request;
    request.method = info->request_method ? info->request_method : "";
    request.path = info->local_uri ? info->local_uri : "";
    request.remote_port = info->remote_port;
    request.received_at = std::chrono::steady_clock::now();
    for (int i = 0; i < info->num_headers; ++i) {
      std::string name = info->http_headers[i].name;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers[name] = info->http_headers[i].value;
    }
    std::array<char, 16384> buffer{};
    while (true) {
      const int read = mg_read(connection, buffer.data(), buffer.size());
      if (read <= 0) break;
      request.body.append(buffer.data(), static_cast<std::size_t>(read));
    }
    const Reply reply = self.responder ? self.responder(request) : Reply{};
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    request.status = reply.status;
    {
      const std::uint64_t records =
          reply.status >= 200 && reply.status < 300
              ? (self.options.count_records ? self.options.count_records(request) : 1)
              : 0;
      std::lock_guard lock(self.mutex);
      ++self.request_count;
      self.delivered_records += records;
      if (self.options.keep_requests) self.requests.push_back(request);
    }
    self.changed.notify_all();
    mg_response_header_start(connection, reply.status);
    mg_response_header_add(connection, "Content-Type", "text/plain", -1);
    const std::string length = std::to_string(reply.body.size());
    mg_response_header_add(connection, "Content-Length", length.c_str(), -1);
    for (const auto& [name, value] : reply.headers) {
      mg_response_header_add(connection, name.c_str(), value.c_str(), -1);
    }
    mg_response_header_send(connection);
    mg_write(connection, reply.body.data(), reply.body.size());
    return reply.status;
  }

  static int quiet(const mg_connection*, const char*) { return 1; }
};

HttpTestServer::HttpTestServer(Responder responder)
    : HttpTestServer(std::move(responder), Options{}) {}

HttpTestServer::HttpTestServer(Responder responder, Options options)
    : impl_(std::make_unique<Impl>()) {
  impl_->responder = std::move(responder);
  impl_->options = std::move(options);
  const std::string threads = std::to_string(impl_->options.threads);
  // tcp_nodelay: the headers and the body of an answer go out in two writes; with Nagle's
  // algorithm the second waits for the client's delayed ACK, 40 ms per request.
  std::array<const char*, 13> configuration{"tcp_nodelay",
                                            "1",
                                            "listening_ports",
                                            "127.0.0.1:0",
                                            "num_threads",
                                            threads.c_str(),
                                            "enable_keep_alive",
                                            "yes",
                                            "keep_alive_timeout_ms",
                                            "30000",
                                            "request_timeout_ms",
                                            "30000",
                                            nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &Impl::quiet;
  impl_->context = mg_start(&callbacks, impl_.get(), configuration.data());
  if (!impl_->context) throw std::runtime_error("cannot start the test HTTP server");
  mg_set_request_handler(impl_->context, "/", &Impl::handle, impl_.get());
  mg_server_port ports[1]{};
  if (mg_get_server_ports(impl_->context, 1, ports) < 1) {
    mg_stop(impl_->context);
    throw std::runtime_error("the test HTTP server has no port");
  }
  port_ = static_cast<std::uint16_t>(ports[0].port);
}

HttpTestServer::~HttpTestServer() {
  mg_stop(impl_->context);
}

std::string HttpTestServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> HttpTestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::uint64_t HttpTestServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->request_count;
}

std::uint64_t HttpTestServer::delivered_records() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->delivered_records;
}

bool HttpTestServer::wait_until(
    const std::function<bool(const std::vector<ReceivedRequest>&)>& condition,
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return condition(impl_->requests); });
}

bool HttpTestServer::wait_for_delivered(std::uint64_t records,
                                        std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout,
                                 [&] { return impl_->delivered_records >= records; });
}

}  // namespace danube::http_sink_test
