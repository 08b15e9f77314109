#pragma once

// One libpq connection with what the sink keeps per connection: the server's notices routed to
// the connector's log, and no silent reconnection (the staging tables live in the session, so a
// broken connection must surface as an error and be replaced by a new session).
#include <memory>
#include <pqxx/connection>
#include <pqxx/errorhandler>
#include <string>

#include "danube/connect/logger.hpp"

namespace danube::sink_postgres {

class PostgresSession {
 public:
  // Connects; throws pqxx::broken_connection when the server cannot be reached or refuses.
  PostgresSession(const std::string& conninfo, connect::Logger& logger);
  PostgresSession(const PostgresSession&) = delete;
  PostgresSession& operator=(const PostgresSession&) = delete;

  pqxx::connection& connection() { return connection_; }
  bool is_open() const { return connection_.is_open(); }
  // "PostgreSQL 15.18 ..." for the startup log.
  std::string server_version();

 private:
  class NoticeToLog : public pqxx::errorhandler {
   public:
    NoticeToLog(pqxx::connection_base& connection, connect::Logger& logger)
        : pqxx::errorhandler(connection), logger_(&logger) {}
    bool operator()(const char message[]) noexcept override;

   private:
    connect::Logger* logger_;
  };

  pqxx::connection connection_;
  NoticeToLog notices_;  // declared after the connection: unregistered before it closes
};

}  // namespace danube::sink_postgres
