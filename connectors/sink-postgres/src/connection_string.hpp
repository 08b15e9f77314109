#pragma once

// The libpq connection string of [postgres] connection: checked when the configuration is read
// (so a typo is a configuration error naming the key, not a failed connection later), kept
// free of passwords (the password comes from the environment or a file), and described for
// logs without secrets.
#include <optional>
#include <string>
#include <string_view>

namespace danube::sink_postgres {

class ConnectionString {
 public:
  // Parses a libpq keyword/value string ("host=db port=5432 sslmode=verify-full") or URI
  // ("postgresql://user@db:5432/app?sslmode=require"). Returns the problem text when it does
  // not parse or when it carries a password.
  static std::optional<std::string> problem(std::string_view text);

  // `text` must have passed problem(). Options left out get this connector's defaults
  // (application_name, connect_timeout); libpq's PG* environment variables and ~/.pgpass
  // apply to whatever is still unset, as for psql.
  ConnectionString(std::string_view text, int connect_timeout_secs);

  // The keyword/value string handed to libpq, with `password` added when set.
  std::string with_password(const std::optional<std::string>& password) const;
  // host, port, dbname, user and sslmode as set (no secrets), for logs.
  const std::string& description() const { return description_; }

 private:
  std::string keyword_values_;
  std::string description_;
};

// 'value' quoted for a libpq keyword/value string.
std::string quote_conninfo_value(std::string_view value);

}  // namespace danube::sink_postgres
