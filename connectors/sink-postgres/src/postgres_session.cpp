#include "postgres_session.hpp"

#include <pqxx/nontransaction>

namespace danube::sink_postgres {

PostgresSession::PostgresSession(const std::string& conninfo, connect::Logger& logger)
    : connection_(conninfo), notices_(connection_, logger) {
  // Deprecated in libpqxx 6.4 because automatic reactivation itself is on its way out; turning
  // it off is what its documentation asks of code that keeps session state (our staging
  // tables), so that a lost connection is reported rather than silently replaced.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  connection_.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

std::string PostgresSession::server_version() {
  pqxx::nontransaction query(connection_, "server_version");
  return query.exec("SHOW server_version")[0][0].as<std::string>();
}

bool PostgresSession::NoticeToLog::operator()(const char message[]) noexcept {
  try {
    std::string text = message;
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    logger_->debug("postgres_notice", {{"message", text}});
  } catch (...) {
    // A notice that cannot be logged is dropped; it never affects the data.
  }
  return true;
}

}  // namespace danube::sink_postgres
