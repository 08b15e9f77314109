#include "danube/common/topic_name.hpp"

#include <charconv>

namespace danube {
namespace {

constexpr std::string_view kPartitionMarker = "-part-";

bool is_ascii_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

bool check_segment(std::string_view segment, std::string_view what, std::string* why) {
  if (segment.empty()) {
    if (why) *why = std::string(what) + " segment is empty";
    return false;
  }
  for (std::size_t i = 0; i < segment.size();) {
    const char c = segment[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      if (!is_ascii_name_char(c)) {
        if (why) {
          *why = std::string(what) + " segment contains '" + std::string(1, c) +
                 "'; only letters, digits, '_' and '-' are allowed";
        }
        return false;
      }
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(segment, i);
    if (length == 0) {
      if (why) *why = std::string(what) + " segment is not valid UTF-8";
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

std::optional<TopicName> parse_topic_name(std::string_view name, std::string* why) {
  if (name.empty() || name.front() != '/') {
    if (why) *why = "topic name must have the form /namespace/topic";
    return std::nullopt;
  }
  const std::string_view rest = name.substr(1);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos) {
    if (why) *why = "topic name must have exactly two segments: /namespace/topic";
    return std::nullopt;
  }
  const std::string_view ns = rest.substr(0, slash);
  const std::string_view topic = rest.substr(slash + 1);
  if (!check_segment(ns, "namespace", why) || !check_segment(topic, "topic", why)) {
    return std::nullopt;
  }
  return TopicName{std::string(ns), std::string(topic)};
}

std::string partition_topic_name(std::string_view topic, std::size_t partition) {
  std::string result(topic);
  result += kPartitionMarker;
  result += std::to_string(partition);
  return result;
}

std::optional<std::size_t> partition_index(std::string_view topic) {
  const auto marker = topic.rfind(kPartitionMarker);
  if (marker == std::string_view::npos) return std::nullopt;
  const std::string_view digits = topic.substr(marker + kPartitionMarker.size());
  if (digits.empty()) return std::nullopt;
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return index;
}

std::string base_topic_name(std::string_view topic) {
  if (!partition_index(topic)) return std::string(topic);
  return std::string(topic.substr(0, topic.rfind(kPartitionMarker)));
}

}  // namespace danube
