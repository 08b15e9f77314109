#include "column_type.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "danube/connect/error.hpp"

namespace danube::sink_postgres {

namespace {

using connect::ConnectorError;

struct TypeName {
  std::string_view name;
  ColumnType type;
};

// The first spelling of each type is its SQL name.
constexpr std::array kTypeNames = {
    TypeName{"text", ColumnType::text},
    TypeName{"varchar", ColumnType::text},
    TypeName{"smallint", ColumnType::smallint},
    TypeName{"int2", ColumnType::smallint},
    TypeName{"integer", ColumnType::integer},
    TypeName{"int", ColumnType::integer},
    TypeName{"int4", ColumnType::integer},
    TypeName{"bigint", ColumnType::bigint},
    TypeName{"int8", ColumnType::bigint},
    TypeName{"real", ColumnType::real},
    TypeName{"float4", ColumnType::real},
    TypeName{"double precision", ColumnType::double_precision},
    TypeName{"double", ColumnType::double_precision},
    TypeName{"float8", ColumnType::double_precision},
    TypeName{"numeric", ColumnType::numeric},
    TypeName{"decimal", ColumnType::numeric},
    TypeName{"boolean", ColumnType::boolean},
    TypeName{"bool", ColumnType::boolean},
    TypeName{"timestamptz", ColumnType::timestamptz},
    TypeName{"timestamp with time zone", ColumnType::timestamptz},
    TypeName{"timestamp", ColumnType::timestamp},
    TypeName{"timestamp without time zone", ColumnType::timestamp},
    TypeName{"date", ColumnType::date},
    TypeName{"uuid", ColumnType::uuid},
    TypeName{"json", ColumnType::json},
    TypeName{"jsonb", ColumnType::jsonb},
};

std::string describe_value(const nlohmann::json& value) {
  std::string text = value.dump();
  // Enough to recognise the value in a dead-letter reason; payloads are not repeated whole.
  constexpr std::size_t kShownChars = 40;
  if (text.size() > kShownChars) text = text.substr(0, kShownChars) + "...";
  return std::string(value.type_name()) + " " + text;
}

[[noreturn]] void mismatch(std::string_view what, ColumnType type, const nlohmann::json& value) {
  throw ConnectorError::invalid_data(std::string(what) + ": expected a value for " +
                                     std::string(sql_name(type)) + ", got " +
                                     describe_value(value));
}

// JSON integers, integral floats (3.0) and strings of digits (protobuf's JSON mapping writes
// 64-bit integers as strings) are integers.
std::int64_t integer_of(const nlohmann::json& value, ColumnType type, std::string_view what) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      mismatch(what, type, value);
    }
    return value.get<std::int64_t>();
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::trunc(number) != number || std::abs(number) > 9.007199254740992e15) {
      mismatch(what, type, value);
    }
    return static_cast<std::int64_t>(number);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      mismatch(what, type, value);
    }
    return number;
  }
  mismatch(what, type, value);
}

std::string integer_text(const nlohmann::json& value, ColumnType type, std::string_view what) {
  const std::int64_t number = integer_of(value, type, what);
  const auto [low, high] = [type]() -> std::pair<std::int64_t, std::int64_t> {
    switch (type) {
      case ColumnType::smallint:
        return {std::numeric_limits<std::int16_t>::min(), std::numeric_limits<std::int16_t>::max()};
      case ColumnType::integer:
        return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
      default:
        return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
    }
  }();
  if (number < low || number > high) {
    throw ConnectorError::invalid_data(std::string(what) + ": " + std::to_string(number) +
                                       " is out of range for " + std::string(sql_name(type)));
  }
  return std::to_string(number);
}

std::string float_text(const nlohmann::json& value, ColumnType type, std::string_view what) {
  double number = 0;
  if (value.is_number()) {
    number = value.get<double>();
  } else if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      mismatch(what, type, value);
    }
  } else {
    mismatch(what, type, value);
  }
  // Shortest text that reads back as the same double.
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  return std::string(buffer.data(), result.ptr);
}

std::string checked_text(std::string text, std::string_view what) {
  // PostgreSQL text cannot hold NUL; say so here rather than as a COPY error.
  if (text.find('\0') != std::string::npos) {
    throw ConnectorError::invalid_data(std::string(what) +
                                       ": text contains a NUL character, which PostgreSQL rejects");
  }
  return text;
}

}  // namespace

std::string_view sql_name(ColumnType type) {
  for (const auto& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "text";
}

std::optional<ColumnType> parse_column_type(std::string_view text) {
  for (const auto& entry : kTypeNames) {
    if (entry.name == text) return entry.type;
  }
  return std::nullopt;
}

std::string column_type_names() {
  std::string names;
  for (const auto& entry : kTypeNames) {
    names += (names.empty() ? "" : ", ") + std::string(entry.name);
  }
  return names;
}

std::string format_timestamp_us(std::int64_t micros_since_epoch) {
  using namespace std::chrono;
  const sys_time<microseconds> time{microseconds(micros_since_epoch)};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  std::array<char, 48> buffer{};
  const int length = std::snprintf(
      buffer.data(), buffer.size(), "%04d-%02u-%02u %02lld:%02lld:%02lld.%06lld+00",
      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
      static_cast<unsigned>(date.day()), static_cast<long long>(clock.hours().count()),
      static_cast<long long>(clock.minutes().count()),
      static_cast<long long>(clock.seconds().count()),
      static_cast<long long>(clock.subseconds().count()));
  return std::string(buffer.data(), static_cast<std::size_t>(std::max(length, 0)));
}

std::optional<std::string> to_sql_text(const nlohmann::json& value, ColumnType type,
                                       std::string_view what) {
  if (value.is_null()) return std::nullopt;
  switch (type) {
    case ColumnType::text:
      return checked_text(value.is_string() ? value.get<std::string>() : value.dump(), what);
    case ColumnType::smallint:
    case ColumnType::integer:
    case ColumnType::bigint:
      return integer_text(value, type, what);
    case ColumnType::real:
    case ColumnType::double_precision:
      return float_text(value, type, what);
    case ColumnType::numeric:
      if (value.is_number()) return value.dump();
      if (value.is_string()) return checked_text(value.get<std::string>(), what);
      mismatch(what, type, value);
    case ColumnType::boolean:
      if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
      if (value == "true" || value == "false") return value.get<std::string>();
      mismatch(what, type, value);
    case ColumnType::timestamptz:
    case ColumnType::timestamp:
      // Strings are PostgreSQL's to parse (ISO 8601 and its other input formats); numbers are
      // milliseconds since the Unix epoch, the common wire convention.
      if (value.is_string()) return checked_text(value.get<std::string>(), what);
      if (value.is_number()) {
        const double millis = value.get<double>();
        if (!std::isfinite(millis) || std::abs(millis) > 1e16) mismatch(what, type, value);
        return format_timestamp_us(static_cast<std::int64_t>(std::llround(millis * 1000.0)));
      }
      mismatch(what, type, value);
    case ColumnType::date:
    case ColumnType::uuid:
      if (value.is_string()) return checked_text(value.get<std::string>(), what);
      mismatch(what, type, value);
    case ColumnType::json:
    case ColumnType::jsonb:
      return value.dump();
  }
  mismatch(what, type, value);
}

}  // namespace danube::sink_postgres
