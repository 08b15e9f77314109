#include "danube/services/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "danube/connect/config_error.hpp"
#include "danube/connect/logger.hpp"

namespace danube::services {

namespace {

spdlog::level::level_enum to_spdlog_level(connect::LogLevel level) {
  switch (level) {
    case connect::LogLevel::trace:
      return spdlog::level::trace;
    case connect::LogLevel::debug:
      return spdlog::level::debug;
    case connect::LogLevel::info:
      return spdlog::level::info;
    case connect::LogLevel::warn:
      return spdlog::level::warn;
    case connect::LogLevel::error:
      return spdlog::level::err;
    case connect::LogLevel::critical:
      return spdlog::level::critical;
    case connect::LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::off;
}

}  // namespace

namespace {

std::optional<spdlog::level::level_enum> parse_level(std::string_view text) {
  const auto level = connect::parse_log_level(text);
  if (!level) return std::nullopt;
  return to_spdlog_level(*level);
}

void append_json_escaped(std::string_view text, spdlog::memory_buf_t& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out.append(std::string_view("\\\""));
        break;
      case '\\':
        out.append(std::string_view("\\\\"));
        break;
      case '\n':
        out.append(std::string_view("\\n"));
        break;
      case '\r':
        out.append(std::string_view("\\r"));
        break;
      case '\t':
        out.append(std::string_view("\\t"));
        break;
      default:
        if (u < 0x20) {
          const char escaped[] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xF]};
          out.append(escaped, escaped + sizeof(escaped));
        } else {
          out.push_back(c);
        }
    }
  }
}

// %* in a pattern: the log message, escaped for a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&,
              spdlog::memory_buf_t& out) override {
    append_json_escaped(std::string_view(message.payload.data(), message.payload.size()), out);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// Text that is placed literally into a spdlog pattern: '%' must be doubled.
std::string pattern_literal(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '%') out += '%';
  }
  return out;
}

std::string json_string_literal(std::string_view text) {
  spdlog::memory_buf_t buffer;
  append_json_escaped(text, buffer);
  return pattern_literal(std::string_view(buffer.data(), buffer.size()));
}

}  // namespace

LoggingOptions LoggingOptions::from_config(const ConnectorConfig& config) {
  LoggingOptions options;
  options.level = config.processing.log_level;
  options.format = config.processing.log_format;
  options.connector_name = config.connector_name;
  return options;
}

void init_logging(const LoggingOptions& options) {
  const auto level = parse_level(options.level);
  if (!level) {
    throw ConfigError("", "[processing] log_level",
                      "must be one of trace, debug, info, warn, error, critical, off (got \"" +
                          options.level + "\")");
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc,
                                                               spdlog::details::os::default_eol);
  if (options.format == LogFormat::json) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","connector":")" +
        json_string_literal(options.connector_name) + R"(","thread":%t,"msg":"%*"})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-8l [" +
                           pattern_literal(options.connector_name) + "] %v");
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(std::move(formatter));
  auto logger = std::make_shared<spdlog::logger>("danube", std::move(sink));
  logger->set_level(*level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

bool ConnectorLogger::enabled(connect::LogLevel level) const {
  return level != connect::LogLevel::off && spdlog::should_log(to_spdlog_level(level));
}

void ConnectorLogger::write(connect::LogLevel level, std::string_view event,
                            std::span<const connect::LogField> fields) {
  spdlog::log(to_spdlog_level(level), "{}", connect::format_log_line(event, fields));
}

}  // namespace danube::services
