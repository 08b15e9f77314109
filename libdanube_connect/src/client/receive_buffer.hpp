#pragma once

#include <cstddef>

#include "danube/client/message.hpp"
#include "danube/common/bounded_queue.hpp"

namespace danube::client::detail {

// The bounded buffer between a consumer's partition readers and the application. A reader
// waits for room (wait_for_room) *before* it reads the next message from its stream and then
// push_now()es it, so while the buffer is full nothing is read, gRPC stops granting HTTP/2
// window, and the broker stops sending. Bounds: max_messages and max_bytes of message
// footprint, each exceeded by at most one message per reader that waited at once.
class ReceiveBuffer : public BoundedQueue<ReceivedMessage> {
 public:
  ReceiveBuffer(std::size_t max_messages, std::size_t max_bytes);

  // What a message counts for against max_bytes: its bytes and the record around them.
  static std::size_t footprint(const ReceivedMessage& message);
};

}  // namespace danube::client::detail
