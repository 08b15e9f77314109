#pragma once

// A real Prometheus (Debian's prometheus package) started by a test: loopback only, a port of its
// own, its storage in the test's scratch directory, scraping the targets the test names. Queries
// go through its HTTP API (/api/v1/query), as a dashboard's would.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chaos_support.hpp"

namespace danube::observability_test {

class PrometheusServer {
 public:
  // Starts `binary` scraping every target ("127.0.0.1:<port>", job "danube-connector") every
  // `scrape_interval`, and waits until it answers /-/ready. Throws when it does not start.
  PrometheusServer(std::filesystem::path binary, std::filesystem::path directory,
                   const std::vector<std::string>& targets, std::chrono::seconds scrape_interval);

  std::uint16_t port() const { return port_; }

  // The `data` member of /api/v1/query for `expression`, evaluated now or at `time` (seconds
  // since the epoch, millisecond precision); nullopt when Prometheus does not answer
  // "success".
  std::optional<nlohmann::json> query(const std::string& expression,
                                      std::optional<double> time = std::nullopt);
  // The value of a query whose answer is exactly one sample; nullopt for no or several samples.
  std::optional<double> value(const std::string& expression,
                              std::optional<double> time = std::nullopt);

  // The end of Prometheus's log, for failure messages.
  std::string log_tail();

 private:
  bool start(const std::filesystem::path& binary, std::uint16_t port);

  std::filesystem::path directory_;
  std::uint16_t port_ = 0;
  std::unique_ptr<chaos::Process> process_;
  std::unique_ptr<chaos::LogWatcher> log_;
  int starts_ = 0;
};

// `text` percent-encoded for a URL query component.
std::string url_encode(const std::string& text);

}  // namespace danube::observability_test
