#pragma once

// danube-source-mqtt: subscribes to MQTT topic filters and publishes every message to the Danube
// topic of the first route that matches it.
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include "danube/connect/connector_context.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/connect/source_sender.hpp"
#include "mqtt_session.hpp"
#include "mqtt_settings.hpp"
#include "stored_watermark.hpp"

namespace danube::source_mqtt {

// The offset partition of the sequence that numbers acknowledged-after-publish messages.
inline constexpr const char* kOffsetPartition = "mqtt";

class MqttSource final : public connect::SourceConnector, public MqttMessageHandler {
 public:
  explicit MqttSource(EnvironmentLookup environment);
  ~MqttSource() override;

  void initialize(const connect::ConnectorContext& context) override;
  std::vector<connect::ProducerConfig> producer_configs() override;
  connect::SourceMode mode() const override { return connect::SourceMode::streaming; }
  void start_streaming(connect::SourceSender sender) override;
  void commit(const std::vector<connect::Offset>& offsets) override;
  void shutdown() override;
  void health_check() override;

  // MqttMessageHandler, on the session's network thread.
  void on_message(const ReceivedMessage& message) override;
  bool may_acknowledge() override;
  void on_connection_change(bool connected) override;

 private:
  const Route* route_for(std::string_view topic) const;
  void report_unrouted(std::string_view topic);

  EnvironmentLookup environment_;
  std::optional<connect::ConnectorContext> context_;
  MqttSettings settings_;
  std::unique_ptr<StoredWatermark> watermark_;
  std::optional<connect::SourceSender> sender_;
  std::unique_ptr<MqttSession> session_;
  std::atomic<bool> closing_{false};
  // The network thread's: receipt times of messages waiting to be stored, by number.
  std::deque<std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> awaiting_store_;

  connect::Counter* received_ = nullptr;
  connect::Counter* unrouted_ = nullptr;
  connect::Counter* not_acknowledged_ = nullptr;
  connect::Counter* connections_ = nullptr;
  connect::Gauge* connected_ = nullptr;
  connect::Histogram* store_wait_ = nullptr;
};

}  // namespace danube::source_mqtt
