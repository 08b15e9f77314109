#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "danube/connect/config.hpp"
#include "danube/connect/environment.hpp"
#include "danube/connect/logger.hpp"

namespace danube::services {

using connect::ConfigError;
using connect::ConnectorConfig;
using connect::LogFormat;

struct LoggingOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::text;
  std::string connector_name;

  // processing.log_level / log_format; LOG_LEVEL and LOG_FORMAT have already been applied by
  // the config loaders.
  static LoggingOptions from_config(const ConnectorConfig& config);
};

// Replaces spdlog's default logger with one writing to stderr: text lines
//   2026-01-01T10:00:00.123Z INFO  [orders-sink] event=started topics=2
// or JSON lines
//   {"ts":"2026-01-01T10:00:00.123Z","level":"info","connector":"orders-sink","msg":"..."}
// Throws ConfigError for an unknown level.
void init_logging(const LoggingOptions& options);

// The connector's Logger (ConnectorContext::logger()): writes through the process's log output
// set up by init_logging, so its lines carry the connector's name and follow log_level and
// log_format like the runtime's own.
class ConnectorLogger final : public connect::Logger {
 public:
  bool enabled(connect::LogLevel level) const override;
  void write(connect::LogLevel level, std::string_view event,
             std::span<const connect::LogField> fields) override;
};

}  // namespace danube::services
