#pragma once

// A real mosquitto broker started by the test (Debian's /usr/sbin/mosquitto, generated config,
// a free loopback port) and a libmosquitto publisher that waits for the broker's
// acknowledgements, for the MQTT source tests.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chaos_support.hpp"

struct mosquitto;
struct mosquitto_message;

namespace danube::mqtt_test {

struct MosquittoOptions {
  std::optional<std::pair<std::string, std::string>> user;  // username, password
  std::optional<std::filesystem::path> tls_cert_file;       // with tls_key_file: a TLS listener
  std::optional<std::filesystem::path> tls_key_file;
  // With TLS: clients must present a certificate signed by this CA file.
  std::optional<std::filesystem::path> client_ca_file;
  bool persistence = true;  // sessions and queued messages survive a restart
};

class MosquittoServer {
 public:
  MosquittoServer(std::filesystem::path directory, MosquittoOptions options = {});
  ~MosquittoServer();
  // Starts mosquitto (on the same port after a stop) and waits until it accepts connections.
  void start();
  // SIGTERM (mosquitto saves its persistence file), then wait.
  void stop();
  std::uint16_t port() const { return port_; }
  bool running();

 private:
  std::filesystem::path directory_;
  MosquittoOptions options_;
  std::uint16_t port_ = 0;
  int starts_ = 0;
  std::unique_ptr<chaos::Process> process_;
};

// A QoS-aware publisher (MQTT 3.1.1, or 5 for user properties). publish() returns once the
// message is queued; wait_acknowledged() waits until the broker acknowledged every QoS 1/2
// message published so far.
class MqttPublisher {
 public:
  MqttPublisher(std::uint16_t port, std::string client_id, bool mqtt5 = false,
                std::optional<std::pair<std::string, std::string>> user = std::nullopt);
  ~MqttPublisher();
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  void publish(const std::string& topic, const std::string& payload, int qos, bool retain = false,
               const std::vector<std::pair<std::string, std::string>>& user_properties = {});
  bool wait_acknowledged(std::chrono::milliseconds timeout);
  bool connected();

 private:
  static void on_connect(mosquitto*, void* self, int reason);
  static void on_disconnect(mosquitto*, void* self, int reason);
  static void on_publish(mosquitto*, void* self, int message_id);

  struct Deleter {
    void operator()(mosquitto* client) const;
  };
  std::unique_ptr<mosquitto, Deleter> client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<int> unacknowledged_;
  bool connected_ = false;
};

}  // namespace danube::mqtt_test

namespace danube::mqtt_test {

// A bare libmosquitto subscriber that counts what it receives and remembers each payload's
// arrival, for measuring what mosquitto alone delivers.
class MqttSubscriber {
 public:
  MqttSubscriber(std::uint16_t port, std::string client_id, const std::string& filter, int qos);
  ~MqttSubscriber();
  MqttSubscriber(const MqttSubscriber&) = delete;
  MqttSubscriber& operator=(const MqttSubscriber&) = delete;

  // Waits until `count` messages arrived; their payloads in arrival order.
  std::optional<std::vector<std::string>> wait_for(std::size_t count,
                                                   std::chrono::milliseconds timeout);
  // Arrival times of the payloads received so far, in arrival order.
  std::vector<std::chrono::steady_clock::time_point> arrivals();

 private:
  static void on_connect(mosquitto*, void* self, int reason);
  static void on_subscribe(mosquitto*, void* self, int, int, const int*);
  static void on_message(mosquitto*, void* self, const ::mosquitto_message* message);

  struct Deleter {
    void operator()(mosquitto* client) const;
  };
  std::string filter_;
  int qos_ = 0;
  std::unique_ptr<mosquitto, Deleter> client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool subscribed_ = false;
  std::vector<std::string> payloads_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
};

}  // namespace danube::mqtt_test
