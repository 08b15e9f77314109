#pragma once

// danube-sink-postgres: writes the messages of each routed Danube topic as rows of a PostgreSQL
// table, one transaction per batch, exactly once per message (see README "Delivery").
#include <memory>
#include <optional>
#include <vector>

#include "danube/connect/connector_context.hpp"
#include "danube/connect/sink_connector.hpp"
#include "postgres_settings.hpp"
#include "route_writer.hpp"
#include "row_mapper.hpp"

namespace danube::sink_postgres {

class PostgresSession;

class PostgresSink final : public connect::SinkConnector {
 public:
  explicit PostgresSink(EnvironmentLookup environment);
  ~PostgresSink() override;

  void initialize(const connect::ConnectorContext& context) override;
  std::vector<connect::ConsumerConfig> consumer_configs() override;
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override;
  void shutdown() override;
  void health_check() override;

 private:
  struct RouteState {
    const Route* route = nullptr;
    std::unique_ptr<RowMapper> mapper;
    std::unique_ptr<RouteWriter> writer;
    connect::Counter* rows_written = nullptr;
    connect::Counter* rows_rejected = nullptr;
  };

  // Opens a session when there is none (or it broke). Throws ConnectorError(retryable).
  void ensure_connected();
  void disconnect();
  RouteState* route_for(const std::string& topic);
  // Maps and writes the records at `indices` (one list per route) in one transaction; fills
  // `result` for them.
  void write_batch(std::span<const connect::SinkRecord> records,
                   const std::vector<std::vector<std::size_t>>& indices,
                   connect::BatchResult& result);
  void fail_pending(const std::vector<std::vector<std::size_t>>& indices,
                    connect::BatchResult& result, const connect::ConnectorError& error);

  EnvironmentLookup environment_;
  std::optional<connect::ConnectorContext> context_;
  PostgresSettings settings_;
  std::vector<RouteState> routes_;
  std::unique_ptr<PostgresSession> session_;

  connect::Counter* connections_ = nullptr;
  connect::Counter* connection_failures_ = nullptr;
  connect::Gauge* connected_ = nullptr;
  connect::Counter* bisection_steps_ = nullptr;
  connect::Counter* copy_fallbacks_ = nullptr;
  connect::Histogram* transaction_seconds_ = nullptr;
};

}  // namespace danube::sink_postgres
