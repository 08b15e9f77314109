#pragma once

// danube-sink-http: delivers the records of Danube topics to HTTP endpoints, one route per
// topic (see connectors/sink-http/README.md).
#include <deque>
#include <memory>
#include <optional>

#include "batch_delivery.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/connect/sink_connector.hpp"
#include "http_client.hpp"
#include "http_sink_settings.hpp"
#include "route_metrics.hpp"

namespace danube::sink_http {

class HttpSink final : public connect::SinkConnector {
 public:
  explicit HttpSink(EnvironmentLookup environment);

  void initialize(const connect::ConnectorContext& context) override;
  std::vector<connect::ConsumerConfig> consumer_configs() override;
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override;
  void shutdown() override;

 private:
  EnvironmentLookup environment_;
  std::optional<connect::ConnectorContext> context_;
  HttpSinkSettings settings_;
  std::deque<RouteMetrics> route_metrics_;  // deque: BatchDelivery keeps pointers into it
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<BatchDelivery> delivery_;
};

}  // namespace danube::sink_http
