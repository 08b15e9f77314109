#include "http_listener.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "danube/connect/error.hpp"

namespace danube::webhook {
namespace {

class CivetHeaders final : public RequestHeaders {
 public:
  explicit CivetHeaders(const mg_connection* connection) : connection_(connection) {}
  std::optional<std::string_view> find(std::string_view name) const override {
    const char* value = mg_get_header(connection_, std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string_view(value);
  }

 private:
  const mg_connection* connection_;
};

class CivetBody final : public BodySource {
 public:
  CivetBody(mg_connection* connection, long long content_length)
      : connection_(connection), content_length_(content_length) {}
  std::optional<std::uint64_t> declared_length() const override {
    if (content_length_ < 0) return std::nullopt;
    return static_cast<std::uint64_t>(content_length_);
  }
  bool read(std::size_t limit, std::string& out) override {
    out.clear();
    if (content_length_ > 0) out.reserve(static_cast<std::size_t>(content_length_));
    std::array<char, 16 * 1024> buffer{};
    while (true) {
      const int count = mg_read(connection_, buffer.data(), buffer.size());
      if (count <= 0) {
        complete_ = true;  // the end of the body (or the client went away: judged later)
        return true;
      }
      if (out.size() + static_cast<std::size_t>(count) > limit) return false;
      out.append(buffer.data(), static_cast<std::size_t>(count));
    }
  }
  // True when the request may still have body bytes on the connection: answered without
  // reading them (404, 405, 429, 413), or cut short.
  bool unread(const mg_connection* connection) const {
    if (complete_) return false;
    return content_length_ > 0 || mg_get_header(connection, "Transfer-Encoding") != nullptr;
  }

 private:
  mg_connection* connection_;
  long long content_length_;
  bool complete_ = false;
};

void send(mg_connection* connection, const WebhookResponse& response, bool close) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     mg_get_response_code_text(connection, response.status) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(response.body.size()) + "\r\nCache-Control: no-store\r\n";
  for (const auto& [name, value] : response.headers)
    head += name + ": " + value + "\r\n";
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  // One write: a header segment followed by a body segment meets Nagle's algorithm and the
  // client's delayed ACK, which adds 40 ms to every answer on a kept-alive connection.
  head += response.body;
  mg_write(connection, head.data(), head.size());
}

std::string listening_spec(const ServerSettings& settings) {
  const bool ipv6 = settings.host.find(':') != std::string::npos;
  const std::string host =
      ipv6 && !settings.host.starts_with("[") ? "[" + settings.host + "]" : settings.host;
  return host + ":" + std::to_string(settings.port) + (settings.tls() ? "s" : "");
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

// Opens and closes one connection to the listener: civetweb's accept loop looks at its stop
// flag only between polls of up to two seconds, and a connection ends the poll at once.
void poke_listener(const std::string& host, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  const std::string target = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, target.c_str(), &address.sin_addr) == 1) {
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  }
  ::close(fd);
}

}  // namespace

HttpListener::HttpListener(const ServerSettings& settings, RequestHandler& handler,
                           connect::Logger& logger)
    : settings_(settings), handler_(handler), logger_(logger) {
  const std::string ports = listening_spec(settings_);
  const std::string threads = std::to_string(std::max(settings_.threads, 1));
  const std::string timeout = std::to_string(settings_.timeout.count() * 1000);
  std::vector<const char*> options{"listening_ports",       ports.c_str(),
                                   "num_threads",           threads.c_str(),
                                   "request_timeout_ms",    timeout.c_str(),
                                   "enable_keep_alive",     "yes",
                                   "keep_alive_timeout_ms", "5000",
                                   "linger_timeout_ms",     "0",
                                   "tcp_nodelay",           "1"};
  options.push_back(nullptr);
  mg_callbacks callbacks{};
  callbacks.log_message = &HttpListener::log_message;
  if (settings_.tls()) callbacks.init_ssl = &HttpListener::init_tls;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = options.data();
  std::array<char, 256> error_text{};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text.data();
  error.text_buffer_size = error_text.size();
  context_ = mg_start2(&init, &error);
  if (context_ == nullptr) {
    if (!tls_error_.empty()) {
      throw connect::ConnectorError::configuration("[server] " + tls_error_);
    }
    if (settings_.tls()) {
      // Debian 12's civetweb 1.15 loads libssl at run time and looks up
      // SSL_get_peer_certificate, which OpenSSL 3 no longer exports: its TLS cannot start,
      // whatever the certificate. A configuration that asks for it cannot be served.
      throw connect::ConnectorError::configuration(
          "[server] tls_cert_path: TLS is not available with this build's civetweb (" +
          std::string(error_text.data()) +
          "; Debian 12's civetweb 1.15 cannot load OpenSSL 3): terminate TLS in a reverse "
          "proxy and leave tls_cert_path / tls_key_path unset");
    }
    throw connect::ConnectorError::io("cannot start the webhook listener on " + ports + ": " +
                                      error_text.data());
  }
  mg_set_request_handler(context_, "/", &HttpListener::handle, this);
  mg_server_port bound{};
  if (mg_get_server_ports(context_, 1, &bound) >= 1) port_ = static_cast<std::uint16_t>(bound.port);
}

HttpListener::~HttpListener() {
  stop();
}

void HttpListener::stop(std::chrono::milliseconds grace) {
  std::lock_guard lock(stop_mutex_);
  if (context_ == nullptr) return;
  {
    std::unique_lock active(active_mutex_);
    idle_.wait_for(active, grace, [this] { return active_requests_ == 0; });
  }
  // mg_stop waits for the worker threads: every request in progress is answered first (the
  // caller has already woken the ones waiting for an acknowledgement).
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(context_);
    stopped = true;
  });
  for (int attempt = 0; attempt < 400 && !stopped; ++attempt) {
    poke_listener(settings_.host, port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
  context_ = nullptr;
}

int HttpListener::handle(mg_connection* connection, void* self_pointer) {
  auto& self = *static_cast<HttpListener*>(self_pointer);
  {
    std::lock_guard active(self.active_mutex_);
    ++self.active_requests_;
  }
  // Counted until the answer is written: stop() lets answers out before civetweb stops.
  struct Finished {
    HttpListener& listener;
    ~Finished() {
      {
        std::lock_guard active(listener.active_mutex_);
        --listener.active_requests_;
      }
      listener.idle_.notify_all();
    }
  } finished{self};
  const mg_request_info* info = mg_get_request_info(connection);
  const CivetHeaders headers(connection);
  const WebhookRequest request{info->request_method ? info->request_method : "",
                               info->local_uri ? info->local_uri : "", headers, info->remote_addr};
  CivetBody body(connection, info->content_length);
  WebhookResponse response;
  try {
    response = self.handler_.handle(request, body);
  } catch (const std::exception& failure) {
    self.logger_.error("webhook_handler_failed", {{"error", failure.what()}});
    response.status = 500;
    response.body = R"({"error":"internal error"})";
  }
  // A body left unread is not worth draining (it may be a gigabyte the client was told not to
  // send): the connection is closed instead of kept alive.
  send(connection, response, body.unread(connection));
  return response.status;
}

int HttpListener::init_tls(void* ssl_context, void* self_pointer) {
  auto& self = *static_cast<HttpListener*>(self_pointer);
  auto* context = static_cast<SSL_CTX*>(ssl_context);
  if (SSL_CTX_use_certificate_chain_file(context, self.settings_.tls_cert_path.c_str()) != 1) {
    self.tls_error_ =
        "tls_cert_path: cannot load " + self.settings_.tls_cert_path + ": " + openssl_error();
    return -1;
  }
  if (SSL_CTX_use_PrivateKey_file(context, self.settings_.tls_key_path.c_str(), SSL_FILETYPE_PEM) !=
          1 ||
      SSL_CTX_check_private_key(context) != 1) {
    self.tls_error_ =
        "tls_key_path: cannot load " + self.settings_.tls_key_path + ": " + openssl_error();
    return -1;
  }
  return 1;  // configured here: civetweb loads no certificate of its own
}

int HttpListener::log_message(const mg_connection*, const char*) {
  // civetweb's own messages (a client that disconnected, a bad request line) are noise at the
  // rates a webhook endpoint sees; keep them off stderr.
  return 1;
}

}  // namespace danube::webhook
