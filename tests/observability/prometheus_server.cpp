#include "prometheus_server.hpp"

#include <cctype>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace danube::observability_test {

using namespace std::chrono_literals;

namespace {

std::string scrape_config(const std::vector<std::string>& targets,
                          std::chrono::seconds scrape_interval) {
  std::ostringstream yaml;
  yaml << "global:\n"
       << "  scrape_interval: " << scrape_interval.count() << "s\n"
       << "  scrape_timeout: " << scrape_interval.count() << "s\n"
       << "  evaluation_interval: " << scrape_interval.count() << "s\n"
       << "scrape_configs:\n"
       << "  - job_name: danube-connector\n"
       << "    static_configs:\n"
       << "      - targets:\n";
  for (const auto& target : targets)
    yaml << "          - \"" << target << "\"\n";
  return yaml.str();
}

}  // namespace

std::string url_encode(const std::string& text) {
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      encoded += escaped;
    }
  }
  return encoded;
}

PrometheusServer::PrometheusServer(std::filesystem::path binary, std::filesystem::path directory,
                                   const std::vector<std::string>& targets,
                                   std::chrono::seconds scrape_interval)
    : directory_(std::move(directory)) {
  std::filesystem::create_directories(directory_);
  chaos::write_text_file(directory_ / "prometheus.yml", scrape_config(targets, scrape_interval));
  // The port was free a moment ago; another process may take it before Prometheus binds it.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (start(binary, chaos::free_loopback_port())) return;
  }
  throw std::runtime_error("prometheus did not start\n" + log_tail());
}

bool PrometheusServer::start(const std::filesystem::path& binary, std::uint16_t port) {
  ++starts_;
  port_ = port;
  const auto log_file = directory_ / ("prometheus." + std::to_string(starts_) + ".log");
  process_ = std::make_unique<chaos::Process>(
      "prometheus",
      std::vector<std::string>{binary.string(),
                               "--config.file=" + (directory_ / "prometheus.yml").string(),
                               "--storage.tsdb.path=" + (directory_ / "data").string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      std::vector<std::string>{}, log_file);
  log_ = std::make_unique<chaos::LogWatcher>(log_file);
  const bool ready = chaos::wait_until(
      [&] {
        if (!process_->running()) return true;
        const auto reply = chaos::http_get(port_, "/-/ready");
        return reply && reply->status == 200;
      },
      60s);
  return ready && process_->running();
}

std::optional<nlohmann::json> PrometheusServer::query(const std::string& expression,
                                                      std::optional<double> time) {
  std::string path = "/api/v1/query?query=" + url_encode(expression);
  if (time) {
    char evaluated_at[32];
    std::snprintf(evaluated_at, sizeof evaluated_at, "%.3f", *time);
    path += "&time=" + std::string(evaluated_at);
  }
  const auto reply = chaos::http_get(port_, path);
  if (!reply || reply->status != 200) return std::nullopt;
  const auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (body.is_discarded() || body.value("status", "") != "success") return std::nullopt;
  return body.at("data");
}

std::optional<double> PrometheusServer::value(const std::string& expression,
                                              std::optional<double> time) {
  const auto data = query(expression, time);
  if (!data || data->at("resultType") != "vector" || data->at("result").size() != 1) {
    return std::nullopt;
  }
  // A sample is [<time>, "<value>"]: the value travels as a string.
  return std::stod(data->at("result").at(0).at("value").at(1).get<std::string>());
}

std::string PrometheusServer::log_tail() {
  return log_ ? log_->tail() : std::string();
}

}  // namespace danube::observability_test
