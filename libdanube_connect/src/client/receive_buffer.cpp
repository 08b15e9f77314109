#include "receive_buffer.hpp"

#include <algorithm>

namespace danube::client::detail {

ReceiveBuffer::ReceiveBuffer(std::size_t max_messages, std::size_t max_bytes)
    : BoundedQueue<ReceivedMessage>(std::max<std::size_t>(1, max_messages),
                                    std::max<std::size_t>(1, max_bytes), &footprint) {}

std::size_t ReceiveBuffer::footprint(const ReceivedMessage& message) {
  std::size_t size = message.payload.size() + message.id.topic_name.size() +
                     message.producer_name.size() + sizeof(ReceivedMessage);
  for (const auto& [key, value] : message.attributes)
    size += key.size() + value.size();
  return size;
}

}  // namespace danube::client::detail
