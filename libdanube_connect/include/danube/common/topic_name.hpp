#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace danube {

// Splits and checks a Danube topic name of the form `/namespace/topic`.
//
// The rules are the broker's: exactly two segments after a leading slash, each made only of
// alphanumerics, `_` and `-` (so no dots). Non-ASCII characters are accepted when they form
// valid UTF-8, since the broker allows Unicode alphanumerics. Unlike the broker we also
// reject an empty namespace or topic segment: no real topic can have one.
struct TopicName {
  std::string namespace_name;
  std::string topic;
};

// Returns the parsed name, or nullopt with `*why` (when given) set to a one-line reason.
std::optional<TopicName> parse_topic_name(std::string_view name, std::string* why = nullptr);

inline bool is_valid_topic_name(std::string_view name) {
  return parse_topic_name(name).has_value();
}

// `/ns/t` with partition 3 -> `/ns/t-part-3`.
std::string partition_topic_name(std::string_view topic, std::size_t partition);

// The partition index of `/ns/t-part-N`, or nullopt when the name has no partition suffix.
std::optional<std::size_t> partition_index(std::string_view topic);

// `/ns/t-part-3` -> `/ns/t`; names without a partition suffix are returned unchanged.
std::string base_topic_name(std::string_view topic);

}  // namespace danube
