#pragma once

// A real PostgreSQL 15 server for the sink's tests and benchmark: initdb into a scratch
// directory, postgres on a free loopback port (run as the `postgres` system user when the test
// runs as root, since initdb and postgres refuse root), password authentication over TCP for
// the connector and trust over the server's private Unix socket for the test's own queries.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace danube::postgres_test {

inline constexpr const char* kPassword = "s3cret-for-tests";

struct PostgresOptions {
  // Off in tests (the data is thrown away); the benchmark turns it on for honest figures.
  bool fsync = false;
  // TLS with this PEM certificate and key; TCP clients must then use it (pg_hba rejects
  // connections without encryption). Copied into the server's directory.
  std::optional<std::filesystem::path> tls_cert_file;
  std::optional<std::filesystem::path> tls_key_file;
};

class PostgresServer {
 public:
  PostgresServer(std::filesystem::path directory, PostgresOptions options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Starts (again, on the same port) and waits until it accepts connections.
  void start();
  // pg_ctl stop: "fast" (sessions are told and closed) or "immediate" (a crash: recovery at
  // the next start).
  void stop(const std::string& mode = "fast");
  bool running() const { return running_; }

  std::uint16_t port() const { return port_; }
  // For the connector: TCP on 127.0.0.1, user postgres, no password (it comes separately).
  std::string tcp_connection() const;
  // For the test: the Unix socket, trusted.
  std::string socket_connection() const;
  const std::filesystem::path& socket_directory() const { return socket_dir_; }

  // Runs `sql` (one or several statements) over the socket; the rows of the last one, each
  // row's fields joined by '|', NULL as "<null>".
  std::vector<std::string> query(const std::string& sql) const;
  // The single value of a one-row, one-column query.
  std::string value(const std::string& sql) const;
  std::int64_t count(const std::string& table) const;

 private:
  void run_as_owner(const std::string& command) const;

  std::filesystem::path directory_;
  std::filesystem::path data_dir_;
  std::filesystem::path socket_dir_;
  std::filesystem::path log_file_;
  PostgresOptions options_;
  std::uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace danube::postgres_test
