#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "danube/connect/config.hpp"
#include "danube/connect/environment.hpp"

namespace danube::connect {

struct LoggingOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::text;
  std::string connector_name;

  // processing.log_level / log_format; LOG_LEVEL and LOG_FORMAT have already been applied by
  // the config loaders.
  static LoggingOptions from_config(const ConnectorConfig& config);
};

// True for the level names accepted by init_logging ("warning" is an alias of "warn").
bool is_valid_log_level(std::string_view level);

// Replaces spdlog's default logger with one writing to stderr: text lines
//   2026-01-01T10:00:00.123Z INFO  [orders-sink] event=started topics=2
// or JSON lines
//   {"ts":"2026-01-01T10:00:00.123Z","level":"info","connector":"orders-sink","msg":"..."}
// Throws ConfigError for an unknown level.
void init_logging(const LoggingOptions& options);

}  // namespace danube::connect
