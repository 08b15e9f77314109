#include "mqtt_session.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "danube/common/backoff.hpp"
#include "danube/connect/error.hpp"

namespace danube::source_mqtt {

namespace {

void ensure_library_initialised() {
  // libmosquitto wants one mosquitto_lib_init() per process before the first client.
  static const int initialised = mosquitto_lib_init();
  (void)initialised;
}

// A CONNACK code that retrying with the same settings cannot fix.
bool refusal_is_permanent(int reason) {
  switch (reason) {
    case CONNACK_REFUSED_PROTOCOL_VERSION:
    case CONNACK_REFUSED_IDENTIFIER_REJECTED:
    case CONNACK_REFUSED_BAD_USERNAME_PASSWORD:
    case CONNACK_REFUSED_NOT_AUTHORIZED:
    case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
    case MQTT_RC_CLIENTID_NOT_VALID:
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED:
    case MQTT_RC_BAD_AUTHENTICATION_METHOD:
      return true;
    default:
      return false;
  }
}

std::string describe_connack(int reason, bool mqtt5) {
  return mqtt5 ? mosquitto_reason_string(reason) : mosquitto_connack_string(reason);
}

// Frees what mosquitto_property_read_string_pair allocated.
struct FreeDeleter {
  void operator()(char* text) const { std::free(text); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

}  // namespace

void MqttSession::MosquittoDeleter::operator()(mosquitto* client) const {
  mosquitto_destroy(client);
}

MqttSession::MqttSession(const MqttSettings& settings, connect::Logger& logger,
                         MqttMessageHandler& handler)
    : settings_(settings), logger_(logger), handler_(handler) {
  ensure_library_initialised();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    throw connect::ConnectorError::fatal("eventfd: " + std::string(std::strerror(errno)));
  }
  configure();
}

MqttSession::~MqttSession() {
  stop();
  ::close(wake_fd_);
}

void MqttSession::configure() {
  client_.reset(mosquitto_new(settings_.client_id.c_str(), settings_.clean_session, this));
  if (!client_) {
    throw connect::ConnectorError::fatal("cannot create the MQTT client: " +
                                         std::string(mosquitto_strerror(MOSQ_ERR_ERRNO)));
  }
  auto* client = client_.get();
  // Our own network thread calls mosquitto_loop(): "threaded" makes libmosquitto queue packets
  // (the PUBACK above all) for that thread instead of writing them from inside its callbacks.
  mosquitto_threaded_set(client, true);
  const bool mqtt5 = settings_.protocol_version == ProtocolVersion::v5;
  mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION,
                       mqtt5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  mosquitto_int_option(client, MOSQ_OPT_TCP_NODELAY, settings_.tcp_nodelay ? 1 : 0);
  if (settings_.username) {
    const int rc =
        mosquitto_username_pw_set(client, settings_.username->c_str(),
                                  settings_.password ? settings_.password->c_str() : nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      throw connect::ConnectorError::configuration("[mqtt] username: " +
                                                   std::string(mosquitto_strerror(rc)));
    }
  }
  if (settings_.tls.enabled) {
    const auto& tls = settings_.tls;
    const char* ca_path =
        tls.ca_path ? tls.ca_path->c_str() : (tls.ca_file ? nullptr : "/etc/ssl/certs");
    const int rc = mosquitto_tls_set(client, tls.ca_file ? tls.ca_file->c_str() : nullptr, ca_path,
                                     tls.cert_file ? tls.cert_file->c_str() : nullptr,
                                     tls.key_file ? tls.key_file->c_str() : nullptr, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      throw connect::ConnectorError::configuration(
          "[mqtt] TLS files (tls_ca_file, tls_ca_path, tls_cert_file, tls_key_file): " +
          std::string(mosquitto_strerror(rc)));
    }
    mosquitto_tls_insecure_set(client, !tls.verify_hostname);
  }
  mosquitto_log_callback_set(client, &MqttSession::handle_library_log);
  mosquitto_connect_v5_callback_set(client, &MqttSession::handle_connect);
  mosquitto_disconnect_v5_callback_set(client, &MqttSession::handle_disconnect);
  mosquitto_subscribe_v5_callback_set(client, &MqttSession::handle_subscribe);
  mosquitto_message_v5_callback_set(client, &MqttSession::handle_message);
}

void MqttSession::start() {
  network_thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  const bool answered = state_changed_.wait_for(
      lock, settings_.connection_timeout, [&] { return start_state_ != StartState::pending; });
  if (answered && start_state_ == StartState::refused) {
    const std::string problem = last_problem_;
    lock.unlock();
    stop();
    throw connect::ConnectorError::fatal("the MQTT broker " + settings_.broker_host + ":" +
                                         std::to_string(settings_.broker_port) +
                                         " refused the connection: " + problem);
  }
  if (!answered) {
    logger_.error("mqtt_not_connected",
                  {{"broker", settings_.broker_host + ":" + std::to_string(settings_.broker_port)},
                   {"waited_s", settings_.connection_timeout.count()},
                   {"problem", last_problem_},
                   {"next", "retrying in the background"}});
  }
}

void MqttSession::stop() {
  stopping_ = true;
  state_changed_.notify_all();
  wake();
  if (network_thread_.joinable()) network_thread_.join();
}

void MqttSession::abort() {
  stopping_ = true;
  aborted_ = true;
  const int socket = mosquitto_socket(client_.get());
  if (socket >= 0) ::shutdown(socket, SHUT_RDWR);
}

void MqttSession::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

int MqttSession::turn() {
  auto* client = client_.get();
  const int socket = mosquitto_socket(client);
  if (socket < 0) return MOSQ_ERR_NO_CONN;
  const bool may_write = handler_.may_acknowledge();
  pollfd fds[2] = {{socket, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  if (may_write && mosquitto_want_write(client)) fds[0].events |= POLLOUT;
  if (::poll(fds, 2, 100) < 0 && errno != EINTR) return MOSQ_ERR_ERRNO;
  if (fds[1].revents & POLLIN) {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto read = ::read(wake_fd_, &count, sizeof count);
  }
  if (stopping_) return MOSQ_ERR_SUCCESS;
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    const int rc = mosquitto_loop_read(client, 1);
    if (rc != MOSQ_ERR_SUCCESS) return rc;
  }
  // Asked again: the read may have handed over messages that are not stored yet.
  if (!aborted_ && handler_.may_acknowledge() && mosquitto_want_write(client)) {
    const int rc = mosquitto_loop_write(client, 1);
    if (rc != MOSQ_ERR_SUCCESS) return rc;
  }
  return mosquitto_loop_misc(client);
}

void MqttSession::flush_and_disconnect() {
  auto* client = client_.get();
  if (aborted_ || !connected_ || !handler_.may_acknowledge()) {
    // Closing without a write leaves whatever is queued unacknowledged, for redelivery.
    const int socket = mosquitto_socket(client);
    if (socket >= 0) ::shutdown(socket, SHUT_RDWR);
    return;
  }
  mosquitto_disconnect(client);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (mosquitto_want_write(client) && std::chrono::steady_clock::now() < deadline) {
    if (mosquitto_loop_write(client, 1) != MOSQ_ERR_SUCCESS) break;
    pollfd fd{mosquitto_socket(client), POLLOUT, 0};
    if (fd.fd < 0 || ::poll(&fd, 1, 100) < 0) break;
  }
}

std::string MqttSession::last_problem() const {
  std::lock_guard lock(mutex_);
  return last_problem_;
}

void MqttSession::record_problem(std::string problem) {
  std::lock_guard lock(mutex_);
  last_problem_ = std::move(problem);
}

bool MqttSession::wait_before_reconnect(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !state_changed_.wait_for(lock, delay, [&] { return stopping_.load(); });
}

void MqttSession::run() {
  BackoffPolicy policy;
  policy.initial = settings_.reconnect_delay;
  policy.max = settings_.max_reconnect_delay;
  policy.max_retries = UINT32_MAX;
  Backoff backoff(policy);
  auto* client = client_.get();
  auto attempt_started = std::chrono::steady_clock::now();
  int rc = mosquitto_connect_async(client, settings_.broker_host.c_str(), settings_.broker_port,
                                   static_cast<int>(settings_.keep_alive.count()));
  while (!stopping_) {
    if (rc == MOSQ_ERR_SUCCESS) rc = turn();
    std::string problem;
    if (rc == MOSQ_ERR_SUCCESS) {
      // libmosquitto 2.0 keeps waiting for a TLS handshake on a connection that was refused
      // (SSL_ERROR_SYSCALL) and never reports it: an attempt without CONNACK in time fails here.
      if (connected_ ||
          std::chrono::steady_clock::now() - attempt_started < settings_.connection_timeout) {
        continue;
      }
      problem = "no CONNACK within connection_timeout_secs (" +
                std::to_string(settings_.connection_timeout.count()) + " s)";
    } else {
      problem = rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno))
                                     : std::string(mosquitto_strerror(rc));
    }
    if (stopping_) break;
    if (connected_.exchange(false)) handler_.on_connection_change(false);
    {
      std::lock_guard lock(mutex_);
      // A TLS alert before the first connection (unknown CA, certificate required) is a
      // configuration problem, like a refused CONNECT.
      const bool tls_refused = library_error_.find("OpenSSL Error") != std::string::npos;
      if (!library_error_.empty()) {
        problem += " (" + library_error_ + ")";
        library_error_.clear();
      }
      if (start_state_ == StartState::pending && tls_refused) start_state_ = StartState::refused;
      // A refusal recorded by handle_connect says more than MOSQ_ERR_CONN_REFUSED.
      if (rc != MOSQ_ERR_CONN_REFUSED || last_problem_.empty()) last_problem_ = problem;
      problem = last_problem_;
      // TLS and protocol failures before the first connection are configuration problems.
      if (start_state_ == StartState::pending &&
          (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_PROTOCOL || rc == MOSQ_ERR_NOT_SUPPORTED)) {
        start_state_ = StartState::refused;
      }
    }
    state_changed_.notify_all();
    const auto delay = backoff.delay(++reconnect_attempt_);
    logger_.warn(
        "mqtt_reconnecting",
        {{"problem", problem}, {"attempt", reconnect_attempt_}, {"delay_ms", delay.count()}});
    if (!wait_before_reconnect(delay)) break;
    attempt_started = std::chrono::steady_clock::now();
    rc = mosquitto_reconnect_async(client);
  }
  flush_and_disconnect();
}

void MqttSession::handle_connect(mosquitto* client, void* self, int reason, int flags,
                                 const mqtt5__property*) {
  auto& session = *static_cast<MqttSession*>(self);
  const bool mqtt5 = session.settings_.protocol_version == ProtocolVersion::v5;
  if (reason != 0) {
    const std::string problem = describe_connack(reason, mqtt5);
    {
      std::lock_guard lock(session.mutex_);
      session.last_problem_ = problem;
      if (session.start_state_ == StartState::pending && refusal_is_permanent(reason)) {
        session.start_state_ = StartState::refused;
      }
    }
    session.state_changed_.notify_all();
    session.logger_.error("mqtt_connection_refused", {{"reason", problem}});
    return;
  }
  for (const auto& route : session.settings_.routes) {
    int message_id = 0;
    const int rc = mosquitto_subscribe(client, &message_id, route.mqtt_filter.c_str(),
                                       static_cast<int>(route.qos));
    if (rc == MOSQ_ERR_SUCCESS) {
      std::lock_guard lock(session.mutex_);
      session.pending_subscriptions_[message_id] = &route;
    } else {
      session.logger_.error("mqtt_subscribe_failed",
                            {{"filter", route.mqtt_filter}, {"error", mosquitto_strerror(rc)}});
    }
  }
  const bool session_present = (flags & 1) != 0;
  session.logger_.info("mqtt_connected",
                       {{"broker", session.settings_.broker_host + ":" +
                                       std::to_string(session.settings_.broker_port)},
                        {"client_id", session.settings_.client_id},
                        {"session_present", session_present},
                        {"subscriptions", session.settings_.routes.size()}});
  session.reconnect_attempt_ = 0;
  session.connected_ = true;
  {
    std::lock_guard lock(session.mutex_);
    session.last_problem_.clear();
    session.start_state_ = StartState::connected;
  }
  session.state_changed_.notify_all();
  session.handler_.on_connection_change(true);
}

void MqttSession::handle_library_log(mosquitto*, void* self, int level, const char* text) {
  auto& session = *static_cast<MqttSession*>(self);
  const std::string_view message = text ? text : "";
  // libmosquitto's errors (a TLS alert from the broker, say) explain the failure that follows
  // better than its error code does: keep the latest for the next problem report.
  if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) != 0) {
    session.logger_.warn("mqtt_library", {{"message", message}});
    std::lock_guard lock(session.mutex_);
    session.library_error_ = std::string(message);
  } else if (session.logger_.enabled(connect::LogLevel::debug)) {
    session.logger_.debug("mqtt_library", {{"level", level}, {"message", message}});
  }
}

void MqttSession::handle_disconnect(mosquitto*, void* self, int reason, const mqtt5__property*) {
  auto& session = *static_cast<MqttSession*>(self);
  if (reason != 0 && !session.stopping_) {
    session.logger_.warn("mqtt_connection_lost", {{"reason", mosquitto_strerror(reason)}});
  }
}

void MqttSession::handle_subscribe(mosquitto*, void* self, int message_id, int count,
                                   const int* granted, const mqtt5__property*) {
  auto& session = *static_cast<MqttSession*>(self);
  const Route* route = nullptr;
  {
    std::lock_guard lock(session.mutex_);
    const auto found = session.pending_subscriptions_.find(message_id);
    if (found == session.pending_subscriptions_.end()) return;
    route = found->second;
    session.pending_subscriptions_.erase(found);
  }
  // One filter per SUBSCRIBE: a refusal (0x80, or an MQTT 5 reason >= 0x80) means this route
  // receives nothing; a lower QoS than asked weakens its delivery.
  if (count < 1 || granted[0] >= 0x80) {
    session.logger_.error("mqtt_subscription_refused",
                          {{"filter", route->mqtt_filter}, {"code", count < 1 ? -1 : granted[0]}});
  } else if (granted[0] < static_cast<int>(route->qos)) {
    session.logger_.warn("mqtt_subscription_downgraded",
                         {{"filter", route->mqtt_filter},
                          {"asked_qos", static_cast<int>(route->qos)},
                          {"granted_qos", granted[0]}});
  } else {
    session.logger_.info("mqtt_subscribed", {{"filter", route->mqtt_filter}, {"qos", granted[0]}});
  }
}

void MqttSession::handle_message(mosquitto*, void* self, const mosquitto_message* message,
                                 const mqtt5__property* properties) {
  auto& session = *static_cast<MqttSession*>(self);
  ReceivedMessage received;
  received.topic = message->topic ? std::string_view(message->topic) : std::string_view();
  received.payload = std::string_view(static_cast<const char*>(message->payload),
                                      message->payloadlen > 0 ? message->payloadlen : 0);
  received.qos = message->qos;
  received.retain = message->retain;
  const mosquitto_property* property = properties;
  bool skip_first = false;
  while (property) {
    char* raw_name = nullptr;
    char* raw_value = nullptr;
    property = mosquitto_property_read_string_pair(property, MQTT_PROP_USER_PROPERTY, &raw_name,
                                                   &raw_value, skip_first);
    const CString name(raw_name), value(raw_value);
    if (!property) break;
    received.user_properties.emplace_back(name ? name.get() : "", value ? value.get() : "");
    skip_first = true;
  }
  session.handler_.on_message(received);
}

}  // namespace danube::source_mqtt
