// EmbeddedBroker: lifecycle of the gRPC server around a BrokerCore.
//
// Design in brief (details in the headers of each piece):
//   - gRPC callback API (client_services.cpp): unary handlers run on gRPC's threads and never
//     block; ReceiveMessages is a ServerWriteReactor writing one message at a time
//     (receive_stream.hpp), so HTTP/2 flow control throttles the broker for slow consumers.
//   - No broker-wide lock on the hot path: producers, consumers and topics are in sharded maps;
//     SendMessage takes the topic's log lock and each subscription's lock; counters are atomics.
//   - One timer thread (timer_queue.hpp) drives ack timeouts, redelivery backoff, injected
//     latency and the periodic flush.
//   - State that a real Danube keeps across a restart (topics, reliable logs, subscription
//     cursors, schemas) lives in BrokerCore. Without a data directory that object survives
//     stop()/start() in memory and only the sessions (producers, consumers, in-flight
//     deliveries) are dropped; with a data directory it is destroyed at stop() and rebuilt from
//     disk at start(), which is what the persistence tests exercise.
//
// Counter rules: `published` counts SendMessage calls answered OK; `delivered` counts completed
// stream writes; `acked` counts acks that settled an unacked reliable message (acks on
// non-reliable topics are ignored, as in Danube); `redelivered` counts reliable sends after the
// first; `dropped` counts non-reliable messages a subscription could not take (once per
// subscription, or once when the topic has none) and poison messages dropped by the drop
// policy; `dead_lettered` counts poison messages moved to the dead-letter topic; `skipped_by_lag`
// (danube_0_15 mode) counts reliable offsets a subscription skipped because its live tail
// overran them, summed over the topic's subscriptions.
//
// Shutdown order (stop): close the gate (new calls get UNAVAILABLE, delayed unary calls end),
// finish every stream, Shutdown(deadline) the server, wait for the streams' OnDone, clear the
// timers, flush logs and cursors, then drop or keep the core.

#include "danube/testkit/embedded_broker.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <shared_mutex>
#include <stdexcept>
#include <thread>

#include "broker_core.hpp"
#include "change_signal.hpp"
#include "client_services.hpp"
#include "receive_stream.hpp"
#include "request_gate.hpp"
#include "storage_files.hpp"
#include "timer_queue.hpp"

namespace danube::testkit {
namespace {

using internal::BrokerCore;

// Danube (tonic) keeps the default 4 MiB decode limit; so do we.
constexpr int kMaxReceiveMessageBytes = 4 * 1024 * 1024;
// Shutdown(deadline) waits until every connection is gone, and an idle client whose library
// does not poll (gRPC C++ without an active call) never answers the GOAWAY: the deadline is what
// closes it. Streams and delayed calls are ended before Shutdown, so the grace only has to cover
// unary calls already being answered.
constexpr auto kShutdownGrace = std::chrono::milliseconds(300);
constexpr int kRebindAttempts = 50;
constexpr auto kRebindPause = std::chrono::milliseconds(40);
// How long stop() waits for the streams' OnDone after the server is down (a safety net).
constexpr auto kStreamDrainTimeout = std::chrono::seconds(5);

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

HostPort split_listen_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    throw std::runtime_error("invalid listen address '" + address + "': expected HOST:PORT");
  }
  const std::string port_text = address.substr(colon + 1);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw std::runtime_error("invalid listen address '" + address + "': bad port '" + port_text +
                             "'");
  }
  return HostPort{address.substr(0, colon), static_cast<std::uint16_t>(port)};
}

bool is_wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
}

std::string read_pem(const std::filesystem::path& path, const char* what) {
  auto content = internal::read_whole_file(path);
  if (!content || content->empty()) {
    throw std::runtime_error(std::string("cannot read TLS ") + what + " '" + path.string() + "'");
  }
  return *content;
}

}  // namespace

class EmbeddedBroker::Impl {
 public:
  explicit Impl(BrokerOptions options)
      : options_(std::move(options)), gate_(options_.jwt_secret, timers_, signal_) {}

  ~Impl() {
    stop();
    // Timer tasks point into members destroyed before timers_ (the gate): none may run later.
    timers_.clear();
  }

  void start() {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (running_) return;
    // The first start binds the configured address; later ones reuse the port it got.
    if (!bound_once_) listen_ = split_listen_address(options_.listen_address);
    const std::string bind_address = listen_.host + ":" + std::to_string(listen_.port);
    try {
      if (options_.fsync_interval.count() <= 0) {
        throw std::invalid_argument("fsync_interval must be positive");
      }
      if (!core_) {
        auto core = std::make_unique<BrokerCore>(options_, timers_, signal_);
        std::unique_lock state(state_mutex_);
        core_ = std::move(core);
      }
      std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
      if (options_.tls) {
        grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
        ssl.pem_key_cert_pairs.push_back({read_pem(options_.tls->key_file, "key file"),
                                          read_pem(options_.tls->cert_file, "certificate file")});
        credentials = grpc::SslServerCredentials(ssl);
      }
      // A restart re-binds the port it had. Between stop() and start() the kernel may briefly
      // hand that port to someone's outgoing connection, so a re-bind retries for a while
      // before giving up; a first bind fails at once.
      const int attempts = bound_once_ ? kRebindAttempts : 1;
      for (int attempt = 1; !server_ && attempt <= attempts; ++attempt) {
        if (attempt > 1) std::this_thread::sleep_for(kRebindPause);
        int selected_port = 0;
        server_ = build_server(bind_address, credentials, selected_port);
        if (server_) listen_.port = static_cast<std::uint16_t>(selected_port);
      }
      if (!server_) throw std::runtime_error("cannot bind the port");
      bound_once_ = true;
    } catch (const std::exception& error) {
      server_.reset();
      services_.reset();
      if (options_.data_dir) {
        std::unique_lock state(state_mutex_);
        core_.reset();
      }
      throw std::runtime_error("cannot start the embedded broker on " + bind_address + ": " +
                               error.what());
    }
    core_->set_service_url(service_url_locked());
    gate_.open();
    running_ = true;
    if (options_.data_dir) {
      periodic_flush_ = true;
      schedule_flush();
    }
    spdlog::info("event=broker_started address={} data_dir=\"{}\" tls={} auth={}", address_locked(),
                 options_.data_dir ? options_.data_dir->string() : "", options_.tls.has_value(),
                 options_.jwt_secret.has_value());
    signal_.notify();
  }

  void stop() {
    std::lock_guard lifecycle(lifecycle_mutex_);
    if (!running_) return;
    gate_.close();
    streams_.finish_all(grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down"));
    spdlog::debug("event=broker_stop_phase phase=server_shutdown");
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    server_->Wait();
    spdlog::debug("event=broker_stop_phase phase=server_down");
    if (!streams_.wait_until_empty(kStreamDrainTimeout)) {
      spdlog::warn("event=broker_stop_streams_pending");
    }
    server_.reset();
    services_.reset();
    periodic_flush_ = false;
    timers_.clear();
    try {
      core_->flush(/*shutting_down=*/true);
    } catch (const std::exception& error) {
      spdlog::error("event=broker_flush_failed error=\"{}\"", error.what());
    }
    if (options_.data_dir) {
      std::unique_lock state(state_mutex_);
      core_.reset();
    } else {
      core_->end_sessions();
    }
    running_ = false;
    spdlog::info("event=broker_stopped port={}", listen_.port);
    signal_.notify();
  }

  void restart() {
    stop();
    start();
  }

  bool running() const {
    std::lock_guard lifecycle(lifecycle_mutex_);
    return running_;
  }

  std::uint16_t port() const {
    std::lock_guard lifecycle(lifecycle_mutex_);
    return listen_.port;
  }

  std::string address() const {
    std::lock_guard lifecycle(lifecycle_mutex_);
    return address_locked();
  }

  std::string service_url() const {
    std::lock_guard lifecycle(lifecycle_mutex_);
    return service_url_locked();
  }

  internal::RequestGate& gate() { return gate_; }
  const internal::RequestGate& gate() const { return gate_; }
  internal::StreamRegistry& streams() { return streams_; }
  const internal::ChangeSignal& signal() const { return signal_; }

  // Runs f(core) under the state lock; throws when there is no core (never started, or stopped
  // with a data directory).
  template <class F>
  auto with_core(F&& f) const {
    std::shared_lock state(state_mutex_);
    if (!core_) throw std::runtime_error("the embedded broker is not running");
    return f(*core_);
  }

  template <class F, class Fallback>
  auto with_core_or(F&& f, Fallback fallback) const {
    std::shared_lock state(state_mutex_);
    if (!core_) return fallback;
    return f(*core_);
  }

 private:
  // Builds and starts a server with fresh service objects (a service can belong to one server
  // only, even one that failed to start); null when the port cannot be bound.
  std::unique_ptr<grpc::Server> build_server(
      const std::string& bind_address, const std::shared_ptr<grpc::ServerCredentials>& credentials,
      int& selected_port) {
    services_ = std::make_unique<internal::ClientServices>(
        internal::ServiceDeps{*core_, gate_, streams_, timers_, signal_});
    grpc::ServerBuilder builder;
    builder.AddListeningPort(bind_address, credentials, &selected_port);
    builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
    // Without this a second broker could silently share the port (SO_REUSEPORT).
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    for (auto* service : services_->services())
      builder.RegisterService(service);
    auto server = builder.BuildAndStart();
    if (server && selected_port != 0) return server;
    services_.reset();
    return nullptr;
  }

  std::string address_locked() const {
    const std::string host = is_wildcard(listen_.host) ? "127.0.0.1" : listen_.host;
    return host + ":" + std::to_string(listen_.port);
  }

  std::string service_url_locked() const {
    return (options_.tls ? "https://" : "http://") + address_locked();
  }

  void schedule_flush() {
    timers_.schedule_after(options_.fsync_interval, [this] {
      if (!periodic_flush_) return;
      {
        std::shared_lock state(state_mutex_);
        if (core_) core_->flush();
      }
      schedule_flush();
    });
  }

  const BrokerOptions options_;
  HostPort listen_;
  mutable std::mutex lifecycle_mutex_;
  mutable std::shared_mutex state_mutex_;  // guards core_ against stop() while observing
  internal::ChangeSignal signal_;
  internal::TimerQueue timers_;
  internal::RequestGate gate_;
  internal::StreamRegistry streams_;
  std::unique_ptr<BrokerCore> core_;
  std::unique_ptr<internal::ClientServices> services_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> periodic_flush_{false};
  bool running_ = false;
  bool bound_once_ = false;
};

EmbeddedBroker::EmbeddedBroker(BrokerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

EmbeddedBroker::~EmbeddedBroker() = default;

void EmbeddedBroker::start() {
  impl_->start();
}
void EmbeddedBroker::stop() {
  impl_->stop();
}
void EmbeddedBroker::restart() {
  impl_->restart();
}
bool EmbeddedBroker::running() const {
  return impl_->running();
}
std::uint16_t EmbeddedBroker::port() const {
  return impl_->port();
}
std::string EmbeddedBroker::address() const {
  return impl_->address();
}
std::string EmbeddedBroker::service_url() const {
  return impl_->service_url();
}

void EmbeddedBroker::fail_next(Rpc rpc, int count, int grpc_status_code, std::string message) {
  impl_->gate().fail_next(rpc, count, grpc_status_code, std::move(message));
}

void EmbeddedBroker::set_latency(Rpc rpc, std::chrono::milliseconds latency) {
  impl_->gate().set_latency(rpc, latency);
}

void EmbeddedBroker::cut_streams() {
  impl_->streams().finish_all(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream cut by fault injection"));
}

std::size_t EmbeddedBroker::delayed_calls() const {
  return impl_->gate().delayed_calls();
}

void EmbeddedBroker::create_namespace(const std::string& name) {
  impl_->with_core([&](BrokerCore& core) { core.create_namespace(name); });
}

void EmbeddedBroker::create_topic(const std::string& name, bool reliable, std::size_t partitions) {
  impl_->with_core([&](BrokerCore& core) { core.create_topic(name, reliable, partitions); });
}

std::optional<TopicCounters> EmbeddedBroker::counters(const std::string& topic) const {
  return impl_->with_core_or([&](BrokerCore& core) { return core.counters(topic); },
                             std::optional<TopicCounters>{});
}

std::vector<std::string> EmbeddedBroker::topics() const {
  return impl_->with_core_or([](BrokerCore& core) { return core.topic_names(); },
                             std::vector<std::string>{});
}

std::optional<SubscriptionSnapshot> EmbeddedBroker::subscription(
    const std::string& topic, const std::string& subscription) const {
  return impl_->with_core_or(
      [&](BrokerCore& core) { return core.subscription(topic, subscription); },
      std::optional<SubscriptionSnapshot>{});
}

bool EmbeddedBroker::wait_for_counters(const std::string& topic,
                                       std::function<bool(const TopicCounters&)> pred,
                                       std::chrono::milliseconds timeout) const {
  return impl_->signal().wait_until(
      [&] {
        const auto current = counters(topic);
        return current && pred(*current);
      },
      timeout);
}

bool EmbeddedBroker::wait_until(const std::function<bool()>& pred,
                                std::chrono::milliseconds timeout) const {
  return impl_->signal().wait_until(pred, timeout);
}

}  // namespace danube::testkit
