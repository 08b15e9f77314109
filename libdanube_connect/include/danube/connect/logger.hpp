#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace danube::connect {

enum class LogLevel { trace, debug, info, warn, error, critical, off };

// "trace" .. "off".
std::string_view to_string(LogLevel level);
// Case-insensitive; "warning" is an alias of "warn". nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);

// One `key=value` of a structured log line. Numbers and booleans are rendered as text.
struct LogField {
  std::string_view key;
  std::string value;

  LogField(std::string_view field_key, std::string_view field_value)
      : key(field_key), value(field_value) {}
  LogField(std::string_view field_key, const char* field_value)
      : key(field_key), value(field_value) {}
  LogField(std::string_view field_key, bool field_value)
      : key(field_key), value(field_value ? "true" : "false") {}
  template <class Number>
  requires std::is_arithmetic_v<Number> LogField(std::string_view field_key, Number field_value)
      : key(field_key), value(std::to_string(field_value)) {}
};

// `event=<event> key=value ...`, the runtime's own log style; values (the event too) with
// spaces, quotes, '=' or control characters are quoted and escaped, so every line splits back
// into its fields.
std::string format_log_line(std::string_view event, std::span<const LogField> fields);

// The connector's logger (ConnectorContext::logger()). The runtime's writes through the
// process's log output ([processing] log_level and log_format) with the connector's name on
// every line. Thread-safe. `event` says what happened: a short name (`batch_written`) or a
// sentence. Never log secrets, and payloads only at debug or trace.
class Logger {
 public:
  virtual ~Logger() = default;

  virtual bool enabled(LogLevel level) const = 0;
  virtual void write(LogLevel level, std::string_view event, std::span<const LogField> fields) = 0;

  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {}) {
    if (enabled(level)) write(level, event, std::span(fields.begin(), fields.size()));
  }
  void trace(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::trace, event, fields);
  }
  void debug(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::debug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::info, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::warn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::error, event, fields);
  }
};

}  // namespace danube::connect
