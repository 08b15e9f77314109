#pragma once

#include <cstddef>

#include "danube/client/message.hpp"
#include "danube/common/bounded_queue.hpp"

namespace danube::client::detail {

// The bounded buffer between a consumer's partition readers and the application. A reader
// looks for room *before* it starts the next read of its stream and push_now()es what it read;
// while the buffer is full it starts no read (the consumer's take resumes it), gRPC stops
// granting HTTP/2 window, and the broker stops sending. Bounds: max_messages and max_bytes of message
// footprint, each exceeded by at most one message per reader that waited at once.
class ReceiveBuffer : public BoundedQueue<ReceivedMessage> {
 public:
  ReceiveBuffer(std::size_t max_messages, std::size_t max_bytes);

  // What a message counts for against max_bytes: its bytes and the record around them.
  static std::size_t footprint(const ReceivedMessage& message);
};

}  // namespace danube::client::detail
