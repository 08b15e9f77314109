#pragma once

// One MQTT client connection (libmosquitto) with its own network thread: connects, subscribes to
// every route after each (re)connection, reconnects with backoff, and hands each received
// message to a handler on that thread.
//
// Acknowledgements: libmosquitto queues a QoS 1 PUBACK (QoS 2 PUBCOMP) when it hands a message
// to the handler, and sends it with the next write. The session drives libmosquitto's reads and
// writes itself (mosquitto_loop_read / _write / _misc) and writes only while the handler says
// every message handed over so far may be acknowledged, that is once Danube stored them. Reading
// goes on meanwhile, so the acknowledgements of a whole window of messages (the MQTT broker's
// in-flight limit) wait for one round trip together. Nothing queued is ever written when the
// connection is closed without flushing (abort, or a stop while messages are unstored): the
// broker then redelivers them.
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
  // On the network thread; may block while the runtime is full (backpressure).
  virtual void on_message(const ReceivedMessage& message) = 0;
  // On the network thread: whether every message handed over so far may be acknowledged.
  virtual bool may_acknowledge() = 0;
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
  // Stops the network thread and waits for it: acknowledgements that may be sent are sent, with
  // DISCONNECT; otherwise the connection is closed without writing. Not from the handler.
  void stop();
  // From the handler only: close the connection without writing anything more (nothing queued
  // is acknowledged) and stop reconnecting.
  void abort();
  // From any thread: may_acknowledge() may have changed.
  void wake();

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
  // One turn of the network loop: poll, read, write what may be written, keepalive.
  int turn();
  void flush_and_disconnect();
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
  std::atomic<bool> aborted_{false};
  int wake_fd_ = -1;  // an eventfd that interrupts the network thread's poll
  mutable std::mutex mutex_;
  std::condition_variable state_changed_;
  StartState start_state_ = StartState::pending;
  std::string last_problem_;
  std::string library_error_;  // libmosquitto's latest error line, until reported
  std::map<int, const Route*> pending_subscriptions_;  // SUBSCRIBE message id -> its route
  std::uint32_t reconnect_attempt_ = 0;                // the network thread's
};

}  // namespace danube::source_mqtt
