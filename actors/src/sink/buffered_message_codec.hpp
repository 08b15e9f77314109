#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "danube/client/message.hpp"

namespace danube::runtime {

// A received message as one sink buffer frame: every field the runtime and the connector use,
// so that a replayed message is the message the broker delivered. Versioned by its first byte.
std::string encode_buffered_message(const client::ReceivedMessage& message);
// The same, appended to `out`.
void append_buffered_message(const client::ReceivedMessage& message, std::string& out);

// nullopt when `bytes` is not a frame this version wrote (truncated, unknown version, lengths
// pointing past the end); never reads outside `bytes`.
std::optional<client::ReceivedMessage> decode_buffered_message(std::string_view bytes);

}  // namespace danube::runtime
