#include "danube/services/dead_letter.hpp"

#include <cstdio>
#include <ctime>

#include "danube/connect/serialization.hpp"

namespace danube::services {

namespace serialization = connect::serialization;

namespace {

// Cut at a character boundary and replace invalid UTF-8, so the attribute is always valid text.
std::string bounded_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < kDeadLetterErrorMaxBytes;) {
    std::size_t length = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xF0) {
      length = 4;
    } else if (c >= 0xE0) {
      length = 3;
    } else if (c >= 0xC0) {
      length = 2;
    }
    const auto piece = text.substr(i, length);
    if (piece.size() == length && serialization::is_valid_utf8(piece)) {
      if (out.size() + length > kDeadLetterErrorMaxBytes) break;
      out += piece;
      i += length;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string format_utc_millis(std::chrono::system_clock::time_point time) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const auto seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char date[32];
  const auto length = std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &utc);
  char text[48];
  std::snprintf(text, sizeof(text), "%.*s.%03dZ", static_cast<int>(length), date,
                static_cast<int>(millis % 1000));
  return text;
}

void add_dead_letter_attributes(Attributes& attributes, const DeadLetterOrigin& origin,
                                const ConnectorError& error) {
  namespace attr = dead_letter_attribute;
  auto set = [&](std::string_view name, std::string value) {
    attributes.insert_or_assign(std::string(name), std::move(value));
  };
  set(attr::connector, origin.connector);
  set(attr::stage, origin.stage);
  set(attr::origin_topic, origin.topic);
  set(attr::origin_partition,
      origin.partition_topic.empty() ? origin.topic : origin.partition_topic);
  if (!origin.offset.empty()) set(attr::offset, origin.offset);
  set(attr::error_kind, std::string(to_string(error.kind())));
  set(attr::error_message, bounded_text(error.what()));
  set(attr::attempts, std::to_string(origin.attempts));
  set(attr::first_failure, format_utc_millis(origin.first_failure));
  set(attr::last_failure, format_utc_millis(origin.last_failure));
}

}  // namespace danube::services
