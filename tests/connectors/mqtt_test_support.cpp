#include "mqtt_test_support.hpp"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace danube::mqtt_test {

namespace {

using namespace std::chrono_literals;

bool accepts_connections(std::uint16_t port) {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (socket_fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(socket_fd);
  return ok;
}

std::string current_user_name() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry ? entry->pw_name : "root";
}

}  // namespace

MosquittoServer::MosquittoServer(std::filesystem::path directory, MosquittoOptions options)
    : directory_(std::move(directory)), options_(std::move(options)) {
  std::filesystem::create_directories(directory_);
}

MosquittoServer::~MosquittoServer() {
  if (process_ && process_->running()) process_->kill();
}

void MosquittoServer::start() {
  // A restart keeps its port (the connector and the publishers reconnect to it); a first start
  // takes a free one and, should another process bind it first, tries another.
  const bool restart = port_ != 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (!restart) port_ = chaos::free_loopback_port();
    ++starts_;
    std::string config = "listener " + std::to_string(port_) + " 127.0.0.1\n" +
                         "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n" +
                         "max_queued_messages 100000\nmax_inflight_messages 20\n" +
                         // Started as root, mosquitto would switch to its own user, which can
                         // read neither the test's files nor its directory.
                         "user " + current_user_name() + "\n";
    if (options_.persistence) {
      config += "persistence true\npersistence_location " + directory_.string() + "/\n" +
                "autosave_interval 3600\n";
    }
    if (options_.user) {
      const auto password_file = directory_ / "passwords";
      chaos::write_text_file(password_file, "");
      const std::string command = "mosquitto_passwd -b " + password_file.string() + " " +
                                  options_.user->first + " " + options_.user->second;
      if (std::system(command.c_str()) != 0) throw std::runtime_error("mosquitto_passwd failed");
      config += "allow_anonymous false\npassword_file " + password_file.string() + "\n";
    } else {
      config += "allow_anonymous true\n";
    }
    if (options_.tls_cert_file) {
      config += "certfile " + options_.tls_cert_file->string() + "\nkeyfile " +
                options_.tls_key_file->string() + "\n";
      if (options_.client_ca_file) {
        config += "cafile " + options_.client_ca_file->string() + "\nrequire_certificate true\n";
      }
    }
    const auto config_file = directory_ / "mosquitto.conf";
    chaos::write_text_file(config_file, config);
    process_ = std::make_unique<chaos::Process>(
        "mosquitto", std::vector<std::string>{"/usr/sbin/mosquitto", "-c", config_file.string()},
        std::vector<std::string>{}, directory_ / ("mosquitto." + std::to_string(starts_) + ".log"));
    const bool up =
        chaos::wait_until([&] { return !process_->running() || accepts_connections(port_); }, 10s);
    if (up && process_->running()) return;
    if (process_->running()) process_->kill();
  }
  throw std::runtime_error("mosquitto did not start (logs in " + directory_.string() + ")");
}

void MosquittoServer::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(10s);
}

bool MosquittoServer::running() {
  return process_ && process_->running();
}

void MqttPublisher::Deleter::operator()(mosquitto* client) const {
  mosquitto_loop_stop(client, true);
  mosquitto_destroy(client);
}

MqttPublisher::MqttPublisher(std::uint16_t port, std::string client_id, bool mqtt5,
                             std::optional<std::pair<std::string, std::string>> user) {
  mosquitto_lib_init();
  client_.reset(mosquitto_new(client_id.c_str(), true, this));
  if (!client_) throw std::runtime_error("mosquitto_new failed");
  if (mqtt5) mosquitto_int_option(client_.get(), MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  if (user) mosquitto_username_pw_set(client_.get(), user->first.c_str(), user->second.c_str());
  mosquitto_connect_callback_set(client_.get(), &MqttPublisher::on_connect);
  mosquitto_disconnect_callback_set(client_.get(), &MqttPublisher::on_disconnect);
  mosquitto_publish_callback_set(client_.get(), &MqttPublisher::on_publish);
  mosquitto_reconnect_delay_set(client_.get(), 1, 1, false);
  // Many QoS 1 messages in flight, so a fast publisher is not throttled to 20 at a time.
  mosquitto_max_inflight_messages_set(client_.get(), 1000);
  if (mosquitto_connect_async(client_.get(), "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
      mosquitto_loop_start(client_.get()) != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("publisher cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, 10s, [&] { return connected_; })) {
    throw std::runtime_error("publisher not connected to 127.0.0.1:" + std::to_string(port));
  }
}

MqttPublisher::~MqttPublisher() {
  if (client_) mosquitto_disconnect(client_.get());
}

void MqttPublisher::publish(const std::string& topic, const std::string& payload, int qos,
                            bool retain,
                            const std::vector<std::pair<std::string, std::string>>& properties) {
  mosquitto_property* list = nullptr;
  for (const auto& [name, value] : properties)
    mosquitto_property_add_string_pair(&list, MQTT_PROP_USER_PROPERTY, name.c_str(), value.c_str());
  int message_id = 0;
  std::lock_guard lock(mutex_);  // held so on_publish cannot run before the id is recorded
  const int rc =
      mosquitto_publish_v5(client_.get(), &message_id, topic.c_str(),
                           static_cast<int>(payload.size()), payload.data(), qos, retain, list);
  mosquitto_property_free_all(&list);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
    throw std::runtime_error(std::string("publish failed: ") + mosquitto_strerror(rc));
  }
  if (qos > 0) unacknowledged_.insert(message_id);
}

bool MqttPublisher::wait_acknowledged(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return unacknowledged_.empty(); });
}

bool MqttPublisher::connected() {
  std::lock_guard lock(mutex_);
  return connected_;
}

void MqttPublisher::on_connect(mosquitto*, void* self, int reason) {
  auto& publisher = *static_cast<MqttPublisher*>(self);
  {
    std::lock_guard lock(publisher.mutex_);
    publisher.connected_ = reason == 0;
  }
  publisher.changed_.notify_all();
}

void MqttPublisher::on_disconnect(mosquitto*, void* self, int) {
  auto& publisher = *static_cast<MqttPublisher*>(self);
  std::lock_guard lock(publisher.mutex_);
  publisher.connected_ = false;
}

void MqttPublisher::on_publish(mosquitto*, void* self, int message_id) {
  auto& publisher = *static_cast<MqttPublisher*>(self);
  {
    std::lock_guard lock(publisher.mutex_);
    publisher.unacknowledged_.erase(message_id);
  }
  publisher.changed_.notify_all();
}

}  // namespace danube::mqtt_test

namespace danube::mqtt_test {

void MqttSubscriber::Deleter::operator()(mosquitto* client) const {
  mosquitto_disconnect(client);
  mosquitto_loop_stop(client, true);
  mosquitto_destroy(client);
}

MqttSubscriber::MqttSubscriber(std::uint16_t port, std::string client_id, const std::string& filter,
                               int qos)
    : filter_(filter), qos_(qos) {
  mosquitto_lib_init();
  client_.reset(mosquitto_new(client_id.c_str(), true, this));
  if (!client_) throw std::runtime_error("mosquitto_new failed");
  mosquitto_connect_callback_set(client_.get(), &MqttSubscriber::on_connect);
  mosquitto_subscribe_callback_set(client_.get(), &MqttSubscriber::on_subscribe);
  mosquitto_message_callback_set(client_.get(), &MqttSubscriber::on_message);
  if (mosquitto_connect_async(client_.get(), "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
      mosquitto_loop_start(client_.get()) != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("subscriber cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, std::chrono::seconds(10), [&] { return subscribed_; })) {
    throw std::runtime_error("subscriber not subscribed to " + filter);
  }
}

MqttSubscriber::~MqttSubscriber() = default;

std::optional<std::vector<std::string>> MqttSubscriber::wait_for(
    std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return payloads_.size() >= count; })) {
    return std::nullopt;
  }
  return payloads_;
}

std::vector<std::chrono::steady_clock::time_point> MqttSubscriber::arrivals() {
  std::lock_guard lock(mutex_);
  return arrivals_;
}

void MqttSubscriber::on_connect(mosquitto* client, void* self, int reason) {
  auto& subscriber = *static_cast<MqttSubscriber*>(self);
  if (reason == 0)
    mosquitto_subscribe(client, nullptr, subscriber.filter_.c_str(), subscriber.qos_);
}

void MqttSubscriber::on_subscribe(mosquitto*, void* self, int, int, const int*) {
  auto& subscriber = *static_cast<MqttSubscriber*>(self);
  {
    std::lock_guard lock(subscriber.mutex_);
    subscriber.subscribed_ = true;
  }
  subscriber.changed_.notify_all();
}

void MqttSubscriber::on_message(mosquitto*, void* self, const ::mosquitto_message* message) {
  auto& subscriber = *static_cast<MqttSubscriber*>(self);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(subscriber.mutex_);
    subscriber.payloads_.emplace_back(static_cast<const char*>(message->payload),
                                      static_cast<std::size_t>(message->payloadlen));
    subscriber.arrivals_.push_back(now);
  }
  subscriber.changed_.notify_all();
}

}  // namespace danube::mqtt_test
