#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <string>

#include "danube/connect/error.hpp"

namespace danube::runtime {

// Anything -> supervisor: the connector (or the pipeline) failed fatally. Pipeline actors
// stamp their incarnation, so a failure reported by a pipeline that was already torn down (a
// message still in flight) is not taken for a failure of its successor.
struct ConnectorFailed {
  connect::ConnectorError error;
  std::string where;
  std::uint64_t incarnation = 0;  // 0: not tied to one pipeline incarnation
};

// What every actor that reports failures holds of its supervisor.
using failure_listener_actor = caf::typed_actor<caf::reacts_to<ConnectorFailed>>;

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ConnectorFailed)
