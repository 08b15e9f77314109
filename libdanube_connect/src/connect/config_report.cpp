#include "danube/connect/config_report.hpp"

#include <sstream>

#include "danube/connect/config.hpp"

namespace danube::connect {

namespace {

template <class Value>
std::string text_of(const Value& value) {
  std::ostringstream out;
  out << std::boolalpha << value;
  return out.str();
}

std::string path_or_dash(const std::optional<std::filesystem::path>& path) {
  return path ? path->string() : std::string("-");
}

template <class Add>
void list_settings(const ConnectorConfig& config, Add add) {
  add("connector_name", config.connector_name);
  add("danube_service_url", config.danube_service_url);
  add("retry.max_retries", text_of(config.retry.max_retries));
  add("retry.retry_backoff_ms", text_of(config.retry.retry_backoff_ms));
  add("retry.max_backoff_ms", text_of(config.retry.max_backoff_ms));
  add("retry.multiplier", text_of(config.retry.multiplier));
  add("retry.jitter", text_of(config.retry.jitter));
  const auto& processing = config.processing;
  add("processing.batch_size", text_of(processing.batch_size));
  add("processing.batch_timeout_ms", text_of(processing.batch_timeout_ms));
  add("processing.poll_interval_ms", text_of(processing.poll_interval_ms));
  add("processing.metrics_port", text_of(processing.metrics_port));
  add("processing.log_level", text_of(processing.log_level));
  add("processing.log_format", std::string(to_string(processing.log_format)));
  add("processing.health_check_interval_ms", text_of(processing.health_check_interval_ms));
  add("processing.health_check_failure_threshold",
      text_of(processing.health_check_failure_threshold));
  add("schemas", text_of(config.schemas.size()));
  add("dead_letter.policy", std::string(to_string(config.dead_letter.policy)));
  add("dead_letter.topic", config.dead_letter_topic());
  const auto& delivery = config.delivery;
  add("delivery.max_inflight_records", text_of(delivery.max_inflight_records));
  add("delivery.max_inflight_bytes", text_of(delivery.max_inflight_bytes));
  add("delivery.ordering", std::string(to_string(delivery.ordering)));
  add("delivery.max_inflight_sends", text_of(delivery.max_inflight_sends));
  add("delivery.max_inflight_acks", text_of(delivery.max_inflight_acks));
  add("delivery.on_gap", std::string(to_string(delivery.on_gap)));
  add("delivery.gap_file", config.gap_file().string());
  add("delivery.gap_file_max_bytes", text_of(delivery.gap_file_max_bytes));
  add("delivery.gap_file_keep", text_of(delivery.gap_file_keep));
  add("http.enabled", text_of(config.http.enabled));
  add("http.bind_address", config.http.bind_address);
  add("http.admin_token_env",
      config.http.admin_token_env.empty() ? std::string("-") : config.http.admin_token_env);
  add("http.admin_token_file", path_or_dash(config.http.admin_token_file));
  add("auth.tls_ca_file", path_or_dash(config.auth.tls_ca_file));
  add("auth.tls_cert_file", path_or_dash(config.auth.tls_cert_file));
  add("auth.tls_key_file", path_or_dash(config.auth.tls_key_file));
  add("auth.token", config.auth.token ? "<redacted>" : "-");
  add("auth.token_file", path_or_dash(config.auth.token_file));
  add("shutdown.timeout_ms", text_of(config.shutdown.timeout_ms));
  const auto& supervision = config.supervision;
  add("supervision.on_fatal", std::string(to_string(supervision.on_fatal)));
  add("supervision.max_restarts", text_of(supervision.max_restarts));
  add("supervision.restart_window_ms", text_of(supervision.restart_window_ms));
  add("supervision.restart_backoff_ms", text_of(supervision.restart_backoff_ms));
  add("supervision.max_restart_backoff_ms", text_of(supervision.max_restart_backoff_ms));
  add("offsets.state_dir", config.offsets.state_dir.string());
  add("offsets.commit_interval_ms", text_of(config.offsets.commit_interval_ms));
  add("sink_buffer.enabled", text_of(config.sink_buffer.enabled));
  add("sink_buffer.max_bytes", text_of(config.sink_buffer.max_bytes));
  add("sink_buffer.segment_bytes", text_of(config.sink_buffer.segment_bytes));
  add("sink_buffer.directory", config.sink_buffer_directory().string());
}

}  // namespace

std::vector<EffectiveSetting> effective_settings(const ConnectorConfig& config) {
  std::vector<EffectiveSetting> settings;
  const auto add = [&](std::string key, std::string value) {
    const auto origin = config.origins.find(key);
    settings.push_back({std::move(key), std::move(value),
                        origin == config.origins.end() ? "default" : origin->second});
  };
  list_settings(config, add);
  // A value no file or variable set that is not the SDK's default was set by the connector's
  // main (RunOptions::adjust_config). Paths and names derived from other settings are left out.
  std::vector<EffectiveSetting> sdk_defaults;
  list_settings(ConnectorConfig{}, [&](std::string key, std::string value) {
    sdk_defaults.push_back({std::move(key), std::move(value), ""});
  });
  for (std::size_t i = 0; i < settings.size() && i < sdk_defaults.size(); ++i) {
    auto& setting = settings[i];
    const bool derived = setting.key == "dead_letter.topic" || setting.key == "delivery.gap_file" ||
                         setting.key == "sink_buffer.directory";
    if (setting.source == "default" && !derived && setting.value != sdk_defaults[i].value) {
      setting.source = "default of this connector";
    }
  }
  return settings;
}

}  // namespace danube::connect
