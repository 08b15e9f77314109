#include "postgres_test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <stdexcept>

#include "chaos_support.hpp"

namespace danube::postgres_test {

namespace {

const std::filesystem::path kBinaries = "/usr/lib/postgresql/15/bin";

bool running_as_root() {
  return ::geteuid() == 0;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

}  // namespace

PostgresServer::PostgresServer(std::filesystem::path directory, PostgresOptions options)
    : directory_(std::move(directory)),
      data_dir_(directory_ / "data"),
      socket_dir_(directory_ / "socket"),
      log_file_(directory_ / "postgres.log"),
      options_(options) {
  std::filesystem::create_directories(socket_dir_);
  // The postgres user must reach its directories through the test's scratch directory.
  for (auto path = directory_; path.has_parent_path() && path != path.root_path();
       path = path.parent_path()) {
    if (path == std::filesystem::temp_directory_path()) break;
    std::filesystem::permissions(path, std::filesystem::perms::others_exec,
                                 std::filesystem::perm_options::add);
  }
  if (options_.tls_cert_file && options_.tls_key_file) {
    std::filesystem::copy_file(*options_.tls_cert_file, directory_ / "server.crt");
    std::filesystem::copy_file(*options_.tls_key_file, directory_ / "server.key");
    // PostgreSQL refuses a key file that others may read.
    std::filesystem::permissions(
        directory_ / "server.key",
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  const auto password_file = directory_ / "password";
  std::ofstream(password_file) << kPassword << "\n";
  if (running_as_root()) {
    const std::string chown = "chown -R postgres:postgres " + shell_quote(directory_.string());
    if (std::system(chown.c_str()) != 0) throw std::runtime_error("chown failed: " + chown);
  }
  run_as_owner((kBinaries / "initdb").string() + " --no-sync -U postgres -E UTF8 --locale=C" +
               " --auth-local=trust --auth-host=scram-sha-256 --pwfile=" +
               shell_quote(password_file.string()) + " -D " + shell_quote(data_dir_.string()) +
               " > " + shell_quote((directory_ / "initdb.log").string()) + " 2>&1");
  if (options_.tls_cert_file) {
    // First match wins: TCP without TLS is turned away before initdb's host lines.
    const auto hba = data_dir_ / "pg_hba.conf";
    const std::string lines = read_file(hba);
    std::ofstream(hba) << "hostnossl all all 0.0.0.0/0 reject\n" << lines;
  }
}

PostgresServer::~PostgresServer() {
  if (running_) {
    try {
      stop("immediate");
    } catch (...) {
      // The scratch directory goes anyway; nothing to report from a destructor.
    }
  }
}

void PostgresServer::run_as_owner(const std::string& command) const {
  const std::string full =
      running_as_root() ? "runuser -u postgres -- sh -c " + shell_quote(command) : command;
  if (std::system(full.c_str()) != 0) {
    throw std::runtime_error("failed: " + command + "\n" + read_file(log_file_) +
                             read_file(directory_ / "initdb.log"));
  }
}

void PostgresServer::start() {
  if (port_ == 0) port_ = chaos::free_loopback_port();
  const std::string options =
      "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + socket_dir_.string() +
      " -c fsync=" + (options_.fsync ? "on" : "off") +
      " -c max_connections=50 -c shared_buffers=128MB" +
      (options_.tls_cert_file
           ? " -c ssl=on -c ssl_cert_file=" + (directory_ / "server.crt").string() +
                 " -c ssl_key_file=" + (directory_ / "server.key").string()
           : std::string());
  run_as_owner((kBinaries / "pg_ctl").string() + " start -w -t 60 -D " +
               shell_quote(data_dir_.string()) + " -l " + shell_quote(log_file_.string()) + " -o " +
               shell_quote(options) + " > /dev/null");
  running_ = true;
}

void PostgresServer::stop(const std::string& mode) {
  run_as_owner((kBinaries / "pg_ctl").string() + " stop -w -t 60 -m " + mode + " -D " +
               shell_quote(data_dir_.string()) + " > /dev/null");
  running_ = false;
}

std::string PostgresServer::tcp_connection() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres";
}

std::string PostgresServer::socket_connection() const {
  return "host=" + socket_dir_.string() + " port=" + std::to_string(port_) +
         " dbname=postgres user=postgres";
}

std::vector<std::string> PostgresServer::query(const std::string& sql) const {
  pqxx::connection connection(socket_connection());
  pqxx::nontransaction tx(connection);
  const auto result = tx.exec(sql);
  std::vector<std::string> rows;
  for (const auto& row : result) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "|";
      line += row[static_cast<int>(i)].is_null() ? "<null>" : row[static_cast<int>(i)].c_str();
    }
    rows.push_back(std::move(line));
  }
  return rows;
}

std::string PostgresServer::value(const std::string& sql) const {
  const auto rows = query(sql);
  if (rows.size() != 1) {
    throw std::runtime_error("expected one row from: " + sql + " (got " +
                             std::to_string(rows.size()) + ")");
  }
  return rows[0];
}

std::int64_t PostgresServer::count(const std::string& table) const {
  try {
    return std::stoll(value("SELECT count(*) FROM " + table));
  } catch (const pqxx::sql_error&) {
    return -1;  // not created yet
  }
}

}  // namespace danube::postgres_test
