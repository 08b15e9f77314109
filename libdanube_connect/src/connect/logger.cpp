#include "danube/connect/logger.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace danube::connect {

namespace {

constexpr std::array<std::string_view, 7> kLevelNames = {"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  return std::any_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == ' ' || c == '"' || c == '=' || c == '\\' || u < 0x20 || u == 0x7f;
  });
}

void append_quoted(std::string_view value, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_value(std::string_view value, std::string& out) {
  if (needs_quotes(value)) {
    append_quoted(value, out);
  } else {
    out += value;
  }
}

}  // namespace

std::string_view to_string(LogLevel level) {
  return kLevelNames.at(static_cast<std::size_t>(level));
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "warning") return LogLevel::warn;
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == lower) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

std::string format_log_line(std::string_view event, std::span<const LogField> fields) {
  std::string line = "event=";
  append_value(event, line);
  for (const auto& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    append_value(field.value, line);
  }
  return line;
}

}  // namespace danube::connect
