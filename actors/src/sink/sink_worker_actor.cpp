#include "sink_worker_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/runtime_actor.hpp"
#include "danube/services/metrics.hpp"
#include "danube/services/record_decoder.hpp"
#include "danube/services/schema_cache.hpp"

namespace danube::runtime {
namespace {

SinkInitResult initialize(connect::SinkConnector& connector, const ContextPtr& context) {
  SinkInitResult result;
  try {
    connector.initialize(connector_context(context));
    result.configs = connector.consumer_configs();
    if (result.configs.empty()) {
      throw connect::ConnectorError::configuration(
          "consumer_configs() returned no subscriptions; a sink needs at least one");
    }
    for (const auto& config : result.configs) {
      connect::validate(config);
      context->metrics->declare_topic(config.topic);
    }
  } catch (...) {
    result.error = connect::error_from_current_exception("initialize sink connector");
  }
  return result;
}

// Builds the record of a received message once; schema failures mark it for the decode stage.
std::optional<connect::ConnectorError> decode(InflightRecord& inflight,
                                              const services::RecordDecoder& decoder) {
  if (inflight.record) return std::nullopt;
  client::ReceivedMessage& message = inflight.message;
  connect::SinkRecordBuilder builder;
  builder.topic(inflight.topic)
      .partition_topic(message.id.topic_name)
      .message_id(message.id)
      .offset(message.id.topic_offset)
      .publish_time_us(message.publish_time * 1000)
      .producer_name(message.producer_name)
      .subscription(message.subscription_name);
  if (message.routing_key) builder.routing_key(*message.routing_key);
  builder.attributes(message.attributes);  // a copy: the dead-letter path reads the original
  builder.payload(std::move(message.payload));
  try {
    inflight.record = decoder.decode(builder, message.schema_id, message.schema_version,
                                     inflight.expected_schema_subject);
    return std::nullopt;
  } catch (...) {
    // Keep the bytes for the dead-letter topic even though the record did not decode.
    message.payload = builder.current_payload().str();
    inflight.stage = FailureStage::decode;
    auto error = connect::error_from_current_exception("decode " + message.id.topic_name);
    // A schema registry that is briefly unreachable is no fault of the record: retry it
    // instead of dead-lettering it. A registry that answers (unknown schema id) is final.
    const auto& client_error = error.client_error();
    if (client_error && client_error->is_retryable()) {
      return connect::ConnectorError::retryable(error.message()).with_cause(error.what());
    }
    return error;
  }
}

// Publish time to now for each record, grouped by topic (consecutive records of a batch mostly
// share one). The producer's clock sets publish times: a skew between hosts shows up here, and
// a negative age counts as 0.
void observe_end_to_end_latency(services::ConnectorMetrics& metrics,
                                const std::vector<connect::SinkRecord>& records) {
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<double> seconds;
  seconds.reserve(records.size());
  std::size_t first = 0;
  while (first < records.size()) {
    const std::string& topic = records[first].topic();
    seconds.clear();
    std::size_t next = first;
    for (; next < records.size() && records[next].topic() == topic; ++next) {
      const auto published = static_cast<std::int64_t>(records[next].publish_time_us());
      seconds.push_back(static_cast<double>(std::max<std::int64_t>(0, now_us - published)) / 1e6);
    }
    metrics.observe_end_to_end_latency(topic, seconds);
    first = next;
  }
}

ProcessOutcome process(connect::SinkConnector& connector, const services::RecordDecoder& decoder,
                       services::ConnectorMetrics& metrics, ProcessRequest& request) {
  ProcessOutcome outcome;
  outcome.batch_id = request.batch_id;
  outcome.records = std::move(request.records);
  auto& inflight = outcome.records;
  // The connector gets the records lent as one contiguous span: moved out of their inflight
  // records and back after the call, instead of a copy of each record, payload included.
  std::vector<connect::SinkRecord> records;
  std::vector<std::size_t> positions;  // records[k] is inflight[positions[k]]
  records.reserve(inflight.size());
  positions.reserve(inflight.size());
  for (std::size_t i = 0; i < inflight.size(); ++i) {
    if (auto error = decode(inflight[i], decoder)) {
      outcome.set_error(i, std::move(*error));
      continue;
    }
    inflight[i].stage = FailureStage::process;
    records.push_back(std::move(*inflight[i].record));
    positions.push_back(i);
  }

  if (!records.empty()) observe_end_to_end_latency(metrics, records);
  const auto started = Clock::now();
  if (!records.empty()) {
    try {
      const connect::BatchResult result = connector.process_batch(records);
      if (result.size() != records.size()) {
        throw connect::ConnectorError::fatal("process_batch returned " +
                                             std::to_string(result.size()) + " outcomes for " +
                                             std::to_string(records.size()) + " records");
      }
      for (std::size_t k = 0; k < records.size(); ++k) {
        if (const auto* error = result.error(k)) outcome.set_error(positions[k], *error);
        if (result.deferred(k)) outcome.set_deferred(positions[k]);
      }
    } catch (...) {
      const auto error = connect::error_from_current_exception("process_batch");
      for (const std::size_t position : positions)
        outcome.set_error(position, error);
    }
  }
  for (std::size_t k = 0; k < records.size(); ++k)
    *inflight[positions[k]].record = std::move(records[k]);
  outcome.elapsed = Clock::now() - started;
  return outcome;
}

}  // namespace

const connect::ConnectorError* ProcessOutcome::error(std::size_t i) const {
  return i < errors.size() && errors[i] ? &*errors[i] : nullptr;
}

bool ProcessOutcome::is_deferred(std::size_t i) const {
  return i < deferred.size() && deferred[i];
}

void ProcessOutcome::set_error(std::size_t i, connect::ConnectorError error) {
  if (errors.empty()) errors.resize(records.size());
  errors[i] = std::move(error);
}

void ProcessOutcome::set_deferred(std::size_t i) {
  if (deferred.empty()) deferred.assign(records.size(), false);
  deferred[i] = true;
}

sink_worker_actor spawn_sink_worker(caf::actor_system& system,
                                    std::shared_ptr<connect::SinkConnector> connector,
                                    ContextPtr context,
                                    std::shared_ptr<ConnectorActivity> activity) {
  auto cache = context->schema_registry ? std::make_shared<services::SchemaCache>(
                                              context->schema_registry, 256, context->metrics.get())
                                        : nullptr;
  auto decoder = std::make_shared<services::RecordDecoder>(std::move(cache));
  return system.spawn<caf::detached>(
      [](TypedActor<sink_worker_actor>* self, std::shared_ptr<connect::SinkConnector> connector,
         ContextPtr context, std::shared_ptr<services::RecordDecoder> decoder,
         std::shared_ptr<ConnectorActivity> activity) -> sink_worker_actor::behavior_type {
        return {
            [=](init_atom) {
              const ConnectorActivity::Call call(*activity);
              return initialize(*connector, context);
            },
            [=](ProcessRequest& request) {
              outcome_listener_actor outcome_to = request.outcome_to;
              ProcessOutcome outcome;
              {
                const ConnectorActivity::Call call(*activity);
                outcome = process(*connector, *decoder, *context->metrics, request);
              }
              self->send(outcome_to, std::move(outcome));
            },
            [=](probe_atom) -> HealthReport {
              try {
                connector->health_check();
                return HealthReport{true, {}};
              } catch (...) {
                return HealthReport{false,
                                    connect::error_from_current_exception("health_check").what()};
              }
            },
            [=](shutdown_atom) {
              const ConnectorActivity::Call call(*activity);
              try {
                connector->shutdown();
              } catch (...) {
                spdlog::warn("event=connector_shutdown_failed error=\"{}\"",
                             connect::error_from_current_exception("shutdown").what());
              }
            },
        };
      },
      std::move(connector), std::move(context), std::move(decoder), std::move(activity));
}

}  // namespace danube::runtime
