#include "topic_filter.hpp"

namespace danube::source_mqtt {

namespace {

// The level of `text` that starts at `position`, and where the next one starts (npos when it is
// the last level).
struct Level {
  std::string_view text;
  std::size_t next = std::string_view::npos;
};

Level level_at(std::string_view text, std::size_t position) {
  const auto slash = text.find('/', position);
  if (slash == std::string_view::npos) return {text.substr(position)};
  return {text.substr(position, slash - position), slash + 1};
}

}  // namespace

std::optional<std::string> topic_filter_problem(std::string_view filter) {
  if (filter.empty()) return "an MQTT topic filter must not be empty";
  if (filter.find('\0') != std::string_view::npos) return "contains a NUL character";
  std::size_t position = 0;
  while (true) {
    const Level level = level_at(filter, position);
    const bool last = level.next == std::string_view::npos;
    if (level.text.find('#') != std::string_view::npos && (level.text != "#" || !last)) {
      return "'#' must be a whole level and the last one (\"a/#\")";
    }
    if (level.text.find('+') != std::string_view::npos && level.text != "+") {
      return "'+' must be a whole level (\"a/+/c\")";
    }
    if (last) return std::nullopt;
    position = level.next;
  }
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  std::size_t filter_position = 0;
  std::size_t topic_position = 0;
  while (true) {
    const Level pattern = level_at(filter, filter_position);
    if (pattern.text == "#") return true;
    const Level name = level_at(topic, topic_position);
    if (pattern.text != "+" && pattern.text != name.text) return false;
    if (pattern.next == std::string_view::npos) return name.next == std::string_view::npos;
    filter_position = pattern.next;
    topic_position = name.next;
    if (topic_position == std::string_view::npos) {
      // "a/#" matches "a": the filter's remaining level must be exactly "#".
      return filter.substr(filter_position) == "#";
    }
  }
}

}  // namespace danube::source_mqtt
