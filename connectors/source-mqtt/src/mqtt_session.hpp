#pragma once

// One MQTT client connection (libmosquitto) with its own network thread: connects, subscribes to
// every route after each (re)connection, reconnects with backoff, and hands each received
// message to a handler on that thread.
//
// Acknowledgements: libmosquitto queues a QoS 1 PUBACK (QoS 2 PUBCOMP) before it calls the
// message handler and writes it only when the network thread runs its next write, that is after
// the handler returned. A handler that blocks until the message is stored therefore
// acknowledges only stored messages; one that cannot store it calls abort(), which closes the
// socket so the queued acknowledgement is never written and the broker redelivers.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "danube/connect/logger.hpp"
#include "mqtt_record.hpp"
#include "mqtt_settings.hpp"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;  // libmosquitto's mosquitto_property

namespace danube::source_mqtt {

class MqttMessageHandler {
 public:
  virtual ~MqttMessageHandler() = default;
  // On the network thread. Returning acknowledges the message (QoS 1 and 2).
  virtual void on_message(const ReceivedMessage& message) = 0;
  virtual void on_connection_change(bool connected) = 0;
};

class MqttSession {
 public:
  MqttSession(const MqttSettings& settings, connect::Logger& logger, MqttMessageHandler& handler);
  ~MqttSession();  // stop()
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  // Starts the network thread and waits up to connection_timeout_secs for the first
  // connection. Throws ConnectorError(fatal) when the broker refuses it (credentials, TLS,
  // protocol); returns without a connection when the broker does not answer in time (the
  // thread keeps trying).
  void start();
  // Sends DISCONNECT, stops the network thread and waits for it. Not from the handler.
  void stop();
  // From the handler only: closes the connection at once without writing anything more, so the
  // message in hand is not acknowledged, and stops reconnecting.
  void abort();

  bool connected() const { return connected_.load(); }
  // The last connection problem, for health reports ("" when none).
  std::string last_problem() const;

 private:
  struct MosquittoDeleter {
    void operator()(mosquitto* client) const;
  };
  enum class StartState { pending, connected, refused };

  void configure();
  void run();
  bool wait_before_reconnect(std::chrono::milliseconds delay);
  void record_problem(std::string problem);

  // libmosquitto's callbacks; `self` is the session.
  static void handle_connect(mosquitto* client, void* self, int reason, int flags,
                             const mqtt5__property* properties);
  static void handle_library_log(mosquitto* client, void* self, int level, const char* text);
  static void handle_disconnect(mosquitto* client, void* self, int reason,
                                const mqtt5__property* properties);
  static void handle_subscribe(mosquitto* client, void* self, int message_id, int count,
                               const int* granted, const mqtt5__property* properties);
  static void handle_message(mosquitto* client, void* self, const mosquitto_message* message,
                             const mqtt5__property* properties);

  const MqttSettings& settings_;
  connect::Logger& logger_;
  MqttMessageHandler& handler_;
  std::unique_ptr<mosquitto, MosquittoDeleter> client_;
  std::thread network_thread_;

  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::condition_variable state_changed_;
  StartState start_state_ = StartState::pending;
  std::string last_problem_;
  std::map<int, const Route*> pending_subscriptions_;  // SUBSCRIBE message id -> its route
  std::uint32_t reconnect_attempt_ = 0;                // the network thread's
};

}  // namespace danube::source_mqtt
