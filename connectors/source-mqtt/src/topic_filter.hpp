#pragma once

// MQTT topic filters ("sensors/+/zone1", "alarms/#") as the MQTT 3.1.1 and 5 specifications
// define them, checked once at start-up and then matched against every received topic name.
#include <optional>
#include <string>
#include <string_view>

namespace danube::source_mqtt {

// Why `filter` is not a valid MQTT topic filter, or nullopt when it is: not empty, '#' only as
// the whole last level, '+' only as a whole level, no NUL character.
std::optional<std::string> topic_filter_problem(std::string_view filter);

// Whether topic name `topic` matches the (valid) filter. '+' matches exactly one level, '#' the
// parent level and any number of levels below it ("a/#" matches "a", "a/b" and "a/b/c"), and a
// filter starting with a wildcard does not match topics starting with '$' ("$SYS/...").
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace danube::source_mqtt
