#include "mqtt_source.hpp"

#include <algorithm>
#include <chrono>

#include "danube/connect/config_error.hpp"
#include "danube/connect/error.hpp"
#include "topic_filter.hpp"

namespace danube::source_mqtt {

namespace {

using Clock = std::chrono::steady_clock;

// Two routes to one Danube topic must agree on how it is created.
void check_consistent_topics(const std::vector<Route>& routes) {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (routes[i].danube_topic != routes[j].danube_topic) continue;
      if (routes[i].partitions != routes[j].partitions ||
          routes[i].reliable_dispatch != routes[j].reliable_dispatch) {
        throw connect::ConfigError(
            "", "[[mqtt.routes]] " + std::to_string(i + 1),
            "publishes to " + routes[i].danube_topic + " like route " + std::to_string(j + 1) +
                " but with other partitions or reliable_dispatch; routes to one topic must agree");
      }
    }
  }
}

}  // namespace

MqttSource::MqttSource(EnvironmentLookup environment) : environment_(std::move(environment)) {}

MqttSource::~MqttSource() {
  shutdown();
}

void MqttSource::initialize(const connect::ConnectorContext& context) {
  context_.emplace(context);
  settings_ = read_mqtt_settings(context.config(), environment_);
  check_consistent_topics(settings_.routes);
  auto& logger = context.logger();
  for (const auto& warning : settings_.warnings)
    logger.warn("mqtt_config_warning", {{"detail", warning}});

  std::uint64_t last_committed = 0;
  for (const auto& offset : context.resume_offsets()) {
    if (offset.partition == kOffsetPartition)
      last_committed = std::max(last_committed, offset.value);
  }
  watermark_ = std::make_unique<StoredWatermark>(last_committed);

  auto& metrics = context.metrics();
  received_ = &metrics.counter("mqtt_messages_received_total",
                               "MQTT messages received and handed to the runtime");
  unrouted_ = &metrics.counter("mqtt_messages_unrouted_total",
                               "MQTT messages that matched no route (acknowledged, not published)");
  not_acknowledged_ = &metrics.counter(
      "mqtt_messages_not_acknowledged_total",
      "MQTT messages left unacknowledged at shutdown (the broker redelivers them)");
  connections_ = &metrics.counter("mqtt_connections_total", "Successful MQTT (re)connections");
  connected_ = &metrics.gauge("mqtt_connected", "1 while connected to the MQTT broker");
  store_wait_ = &metrics.histogram(
      "mqtt_store_wait_seconds",
      "Time from receiving a QoS 1/2 message to Danube storing it (its MQTT acknowledgement)",
      {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});

  logger.info("mqtt_source_ready",
              {{"broker", settings_.broker_host + ":" + std::to_string(settings_.broker_port)},
               {"client_id", settings_.client_id},
               {"clean_session", settings_.clean_session},
               {"tls", settings_.tls.enabled},
               {"protocol", settings_.protocol_version == ProtocolVersion::v5 ? "5" : "3.1.1"},
               {"ack_after_publish", settings_.ack_after_publish},
               {"routes", settings_.routes.size()},
               {"resume_from", last_committed}});
  for (const auto& route : settings_.routes) {
    logger.info("mqtt_route", {{"from", route.mqtt_filter},
                               {"to", route.danube_topic},
                               {"qos", to_string(route.qos)},
                               {"partitions", route.partitions},
                               {"reliable_dispatch", route.reliable_dispatch},
                               {"routing_key", describe(route.routing_key)}});
  }
}

std::vector<connect::ProducerConfig> MqttSource::producer_configs() {
  std::vector<connect::ProducerConfig> configs;
  for (const auto& route : settings_.routes) {
    const bool known = std::any_of(configs.begin(), configs.end(), [&](const auto& config) {
      return config.topic == route.danube_topic;
    });
    if (!known) configs.emplace_back(route.danube_topic, route.partitions, route.reliable_dispatch);
  }
  return configs;
}

void MqttSource::start_streaming(connect::SourceSender sender) {
  sender_.emplace(std::move(sender));
  closing_ = false;
  session_ = std::make_unique<MqttSession>(settings_, context_->logger(), *this);
  session_->start();
}

const Route* MqttSource::route_for(std::string_view topic) const {
  for (const auto& route : settings_.routes) {
    if (topic_matches(route.mqtt_filter, topic)) return &route;
  }
  return nullptr;
}

void MqttSource::report_unrouted(std::string_view topic) {
  unrouted_->increment();
  // The first one, then one line per thousand: a misrouted publisher must not flood the log.
  const auto count = static_cast<std::uint64_t>(unrouted_->value());
  if (count == 1 || count % 1000 == 0) {
    context_->logger().warn("mqtt_message_unrouted",
                            {{"mqtt_topic", std::string(topic)}, {"unrouted_so_far", count}});
  }
}

void MqttSource::on_message(const ReceivedMessage& message) {
  if (closing_) return;
  const Route* route = route_for(message.topic);
  if (!route) {
    report_unrouted(message.topic);
    return;
  }
  auto record = make_record(message, *route, settings_.include_metadata);
  received_->increment();
  std::optional<connect::Offset> offset;
  if (settings_.ack_after_publish && message.qos > 0) {
    const std::uint64_t number = watermark_->next_number();
    awaiting_store_.emplace_back(number, Clock::now());
    offset.emplace(kOffsetPartition, number);
  }
  const bool taken = offset ? sender_->send(connect::SourceEnvelope(std::move(record), *offset))
                            : sender_->send(connect::SourceEnvelope(std::move(record)));
  if (!taken) {
    // The runtime no longer takes records: leave what is unacknowledged for the broker to
    // redeliver to the next run.
    closing_ = true;
    not_acknowledged_->increment(static_cast<double>(awaiting_store_.size()));
    session_->abort();
  }
}

bool MqttSource::may_acknowledge() {
  if (closing_) return false;
  const std::uint64_t stored = watermark_->stored();
  const auto now = Clock::now();
  while (!awaiting_store_.empty() && awaiting_store_.front().first <= stored) {
    store_wait_->observe(
        std::chrono::duration<double>(now - awaiting_store_.front().second).count());
    awaiting_store_.pop_front();
  }
  return awaiting_store_.empty();
}

void MqttSource::on_connection_change(bool connected) {
  connected_->set(connected ? 1 : 0);
  if (connected) connections_->increment();
}

void MqttSource::commit(const std::vector<connect::Offset>& offsets) {
  for (const auto& offset : offsets) {
    if (offset.partition == kOffsetPartition) watermark_->stored_up_to(offset.value);
  }
  if (session_) session_->wake();
}

void MqttSource::shutdown() {
  if (session_) {
    session_->stop();
    session_.reset();
  }
  if (connected_) connected_->set(0);
}

void MqttSource::health_check() {
  if (session_ && !session_->connected()) {
    throw connect::ConnectorError::retryable(
        "not connected to the MQTT broker " + settings_.broker_host + ":" +
        std::to_string(settings_.broker_port) + ": " + session_->last_problem());
  }
}

}  // namespace danube::source_mqtt
