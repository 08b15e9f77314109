#pragma once

// A source record on its way through the pipeline, and how it ends: ItemsSettled to the router
// (which tells the offset tracker and returns the driver's credit).

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "../common/runtime_context.hpp"
#include "danube/connect/source_record.hpp"

namespace danube::runtime {

struct SourceItem {
  connect::SourceEnvelope envelope;
  std::uint64_t sequence = 0;  // router-assigned, for the offset tracker
  std::uint32_t attempts = 0;  // failed publish attempts so far
  WallClock::time_point first_failure{};
  WallClock::time_point last_failure{};
};

// These sequences are settled (published, dead-lettered or skipped); the offset tracker may
// commit past them. All of them went to `topic` (for the router's in-flight gauge).
struct ItemsSettled {
  std::vector<std::uint64_t> sequences;
  std::string topic;
};

// What producers and the dead-letter router hold of the router (and the router of the tracker).
using settlement_listener_actor = caf::typed_actor<caf::reacts_to<ItemsSettled>>;

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SourceItem)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ItemsSettled)
