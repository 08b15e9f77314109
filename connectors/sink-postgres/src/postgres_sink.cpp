#include "postgres_sink.hpp"

#include <chrono>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "danube/connect/config_error.hpp"
#include "danube/connect/error.hpp"
#include "postgres_session.hpp"
#include "table_check.hpp"

namespace danube::sink_postgres {

namespace {

using connect::ConnectorError;

// SQLSTATEs that say "not now" rather than "never": a lost or refused connection (08), a
// server shutting down or starting (57P01-57P03), a cancelled statement (57014), a
// serialization failure or deadlock (40), resources (53: disk full, too many connections),
// a lock timeout (55P03) and system I/O errors (58).
bool is_transient(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("40", 0) == 0 ||
         sqlstate.rfind("53", 0) == 0 || sqlstate.rfind("57", 0) == 0 ||
         sqlstate.rfind("58", 0) == 0 || sqlstate == "55P03";
}

// The first line of a libpq message: enough for a log line, without DETAIL lines that may
// quote row values.
std::string first_line(std::string_view text) {
  if (text.rfind("ERROR:", 0) == 0) text.remove_prefix(6);
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  return std::string(text.substr(0, text.find('\n')));
}

}  // namespace

PostgresSink::PostgresSink(EnvironmentLookup environment) : environment_(std::move(environment)) {}

PostgresSink::~PostgresSink() = default;

void PostgresSink::initialize(const connect::ConnectorContext& context) {
  // A supervised restart initializes again: drop what refers to the previous settings first.
  routes_.clear();
  session_.reset();
  context_.emplace(context);
  settings_ = read_postgres_settings(context.config(), environment_);
  auto& logger = context.logger();
  auto& metrics = context.metrics();
  connections_ = &metrics.counter("postgres_connections_total", "Connections opened to PostgreSQL");
  connection_failures_ = &metrics.counter("postgres_connection_failures_total",
                                          "Connections to PostgreSQL lost or refused");
  connected_ = &metrics.gauge("postgres_connected", "1 while connected to PostgreSQL");
  bisection_steps_ = &metrics.counter("postgres_bisection_steps_total",
                                      "Batch halvings done to find the rows PostgreSQL refused");
  copy_fallbacks_ = &metrics.counter(
      "postgres_copy_fallbacks_total",
      "Direct COPYs refused (a redelivered or bad row) and redone through the staging table");
  transaction_seconds_ =
      &metrics.histogram("postgres_transaction_seconds", "Time to write and commit one batch",
                         {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});

  try {
    ensure_connected();
  } catch (const ConnectorError& error) {
    // Not reachable at start: the runtime's supervision decides (restart or exit 1).
    logger.error("postgres_unreachable",
                 {{"connection", settings_.connection.description()}, {"error", error.message()}});
    throw;
  }
  logger.info(
      "postgres_connected",
      {{"connection", settings_.connection.description()},
       {"server_version", session_->server_version()},
       {"insert_method", settings_.insert_method == InsertMethod::copy ? "copy" : "insert"}});
  routes_.clear();
  for (std::size_t i = 0; i < settings_.routes.size(); ++i) {
    const Route& route = settings_.routes[i];
    RouteState state;
    state.route = &route;
    state.mapper = std::make_unique<RowMapper>(route);
    std::vector<std::string> sql_types;
    try {
      sql_types = prepare_table(session_->connection(), route, state.mapper->columns(), logger);
    } catch (const pqxx::broken_connection& error) {
      throw ConnectorError::retryable("PostgreSQL connection lost while checking table " +
                                      route.display_table() + ": " + first_line(error.what()));
    } catch (const pqxx::sql_error& error) {
      // Permissions, a bad schema name: what the configuration (or the database's grants)
      // must fix.
      route.section.fail(
          "to", "cannot use table " + route.display_table() + ": " + first_line(error.what()));
    }
    state.writer = std::make_unique<RouteWriter>(route, *state.mapper, std::move(sql_types),
                                                 settings_.insert_method, i);
    const connect::MetricLabels labels{{"table", route.display_table()}};
    state.rows_written = &metrics.counter("postgres_rows_written_total",
                                          "Rows written (inserted or upserted)", labels);
    state.rows_rejected = &metrics.counter(
        "postgres_rows_rejected_total",
        "Records failed as invalid_data: unmappable, or refused by PostgreSQL", labels);
    logger.info("postgres_route", {{"from", route.consumer.topic},
                                   {"to", route.display_table()},
                                   {"mode", route.mode == WriteMode::upsert ? "upsert" : "insert"},
                                   {"columns", state.mapper->columns().size()},
                                   {"subscription", route.consumer.subscription}});
    routes_.push_back(std::move(state));
  }
  // The staging tables need the tables checked above; a fresh session prepares them too.
  for (auto& state : routes_)
    state.writer->prepare_session(session_->connection());
}

std::vector<connect::ConsumerConfig> PostgresSink::consumer_configs() {
  std::vector<connect::ConsumerConfig> configs;
  for (const auto& route : settings_.routes)
    configs.push_back(route.consumer);
  return configs;
}

void PostgresSink::ensure_connected() {
  if (session_ && session_->is_open()) return;
  session_.reset();
  try {
    auto session = std::make_unique<PostgresSession>(
        settings_.connection.with_password(settings_.password), context_->logger());
    for (auto& state : routes_)
      state.writer->prepare_session(session->connection());
    session_ = std::move(session);
  } catch (const pqxx::broken_connection& error) {
    connection_failures_->increment();
    throw ConnectorError::retryable("cannot connect to PostgreSQL (" +
                                    settings_.connection.description() +
                                    "): " + first_line(error.what()));
  } catch (const pqxx::sql_error& error) {
    connection_failures_->increment();
    if (is_transient(error.sqlstate())) {
      throw ConnectorError::retryable("PostgreSQL is not ready: " + first_line(error.what()));
    }
    throw ConnectorError::fatal("cannot prepare the PostgreSQL session: " +
                                first_line(error.what()));
  }
  connections_->increment();
  connected_->set(1);
  if (connections_->value() > 1) {
    context_->logger().info("postgres_reconnected",
                            {{"connection", settings_.connection.description()}});
  }
}

void PostgresSink::disconnect() {
  session_.reset();
  if (connected_) connected_->set(0);
}

PostgresSink::RouteState* PostgresSink::route_for(const std::string& topic) {
  for (auto& state : routes_) {
    if (state.route->consumer.topic == topic) return &state;
  }
  return nullptr;
}

connect::BatchResult PostgresSink::process_batch(std::span<const connect::SinkRecord> records) {
  connect::BatchResult result(records.size());
  std::vector<std::vector<std::size_t>> indices(routes_.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    RouteState* state = route_for(records[i].topic());
    if (!state) {
      result.fail(i, ConnectorError::invalid_data("no [[postgres.routes]] entry for topic " +
                                                  records[i].topic()));
      continue;
    }
    indices[static_cast<std::size_t>(state - routes_.data())].push_back(i);
  }
  write_batch(records, indices, result);
  return result;
}

void PostgresSink::fail_pending(const std::vector<std::vector<std::size_t>>& indices,
                                connect::BatchResult& result, const ConnectorError& error) {
  for (const auto& route_indices : indices) {
    for (const auto index : route_indices)
      result.fail(index, error);
  }
}

void PostgresSink::write_batch(std::span<const connect::SinkRecord> records,
                               const std::vector<std::vector<std::size_t>>& indices,
                               connect::BatchResult& result) {
  std::size_t pending = 0;
  for (const auto& route_indices : indices)
    pending += route_indices.size();
  if (pending == 0) return;
  auto& logger = context_->logger();
  const auto started = std::chrono::steady_clock::now();
  try {
    ensure_connected();
    std::vector<RouteOutcome> outcomes;
    outcomes.reserve(routes_.size());
    pqxx::work tx(session_->connection(), "batch");
    for (std::size_t r = 0; r < routes_.size(); ++r) {
      auto& writer = *routes_[r].writer;
      const auto steps_before = writer.bisection_steps();
      const auto fallbacks_before = writer.copy_fallbacks();
      outcomes.push_back(writer.write_records(tx, records, indices[r]));
      bisection_steps_->increment(static_cast<double>(writer.bisection_steps() - steps_before));
      copy_fallbacks_->increment(static_cast<double>(writer.copy_fallbacks() - fallbacks_before));
    }
    tx.commit();
    transaction_seconds_->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t r = 0; r < routes_.size(); ++r) {
      auto& state = routes_[r];
      const auto& outcome = outcomes[r];
      for (const auto& [index, error] : outcome.unmappable)
        result.fail(index, error);
      for (const auto& row : outcome.rejected) {
        result.fail(row.index,
                    ConnectorError::invalid_data("PostgreSQL refused the row for " +
                                                 state.route->display_table() + ": " + row.reason)
                        .with_cause("SQLSTATE " + row.sqlstate));
        logger.warn("postgres_row_rejected", {{"table", state.route->display_table()},
                                              {"sqlstate", row.sqlstate},
                                              {"error", first_line(row.reason)}});
      }
      state.rows_rejected->increment(
          static_cast<double>(outcome.rejected.size() + outcome.unmappable.size()));
      state.rows_written->increment(static_cast<double>(outcome.written));
    }
  } catch (const ConnectorError& error) {
    // ensure_connected: PostgreSQL unreachable; the runtime retries with backoff.
    disconnect();
    fail_pending(indices, result, error);
  } catch (const pqxx::in_doubt_error& error) {
    // The commit may or may not have happened. Writing again is safe: the ON CONFLICT key
    // turns rows already there into no-ops.
    connection_failures_->increment();
    disconnect();
    logger.warn("postgres_commit_in_doubt", {{"records", pending}});
    fail_pending(indices, result,
                 ConnectorError::retryable("PostgreSQL connection lost during COMMIT: " +
                                           first_line(error.what())));
  } catch (const pqxx::broken_connection& error) {
    connection_failures_->increment();
    disconnect();
    logger.warn("postgres_connection_lost",
                {{"records", pending}, {"error", first_line(error.what())}});
    fail_pending(
        indices, result,
        ConnectorError::retryable("PostgreSQL connection lost: " + first_line(error.what())));
  } catch (const pqxx::sql_error& error) {
    const bool open = session_ && session_->is_open();
    if (!open) disconnect();
    if (is_transient(error.sqlstate()) || !open) {
      if (!open) connection_failures_->increment();
      logger.warn("postgres_transient_error",
                  {{"sqlstate", error.sqlstate()}, {"error", first_line(error.what())}});
      fail_pending(indices, result,
                   ConnectorError::retryable("PostgreSQL: " + first_line(error.what()))
                       .with_cause("SQLSTATE " + error.sqlstate()));
      return;
    }
    // A table or column changed under the running sink, missing privileges: no record can be
    // written until someone acts, so stop (a restart re-checks the tables and says what is
    // wrong).
    throw ConnectorError::fatal("PostgreSQL refused the batch: " + first_line(error.what()))
        .with_cause("SQLSTATE " + error.sqlstate());
  }
}

void PostgresSink::shutdown() {
  disconnect();
}

void PostgresSink::health_check() {
  try {
    ensure_connected();
    pqxx::nontransaction ping(session_->connection(), "health_check");
    ping.exec("SELECT 1");
  } catch (const ConnectorError&) {
    throw;
  } catch (const std::exception& error) {
    disconnect();
    throw ConnectorError::retryable("PostgreSQL health check failed: " + first_line(error.what()));
  }
}

}  // namespace danube::sink_postgres
