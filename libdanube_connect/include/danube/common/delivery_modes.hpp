#pragma once

#include <optional>
#include <string_view>

namespace danube {

// How the broker keeps a topic's messages (the wire's danube.DispatchStrategy, whose values
// these numbers are; the name differs because the generated protobuf code owns that one).
enum class Dispatch {
  non_reliable = 0,  // delivered to whoever is connected, kept nowhere
  reliable = 1,      // stored and tracked per subscription until acknowledged
};

// Order versus parallelism, for producers and for sinks alike:
//  - a producer with `strict` keeps one send in flight per partition, with `relaxed` it
//    pipelines up to its max in flight on any partition;
//  - a sink with `strict` processes and acks a partition's records in order, with `relaxed`
//    records may complete out of order.
enum class Ordering { strict, relaxed };

// "non_reliable", "reliable".
std::string_view to_string(Dispatch dispatch);
// "strict", "relaxed".
std::string_view to_string(Ordering ordering);
// Exact spellings above; nullopt otherwise.
std::optional<Ordering> parse_ordering(std::string_view text);

}  // namespace danube
