#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "danube/client/message.hpp"

namespace danube::client::detail {

// The bounded buffer between a consumer's partition readers and the application. A reader
// waits for room *before* it reads the next message from its stream, so while the buffer is
// full nothing is read, gRPC stops granting HTTP/2 window, and the broker stops sending.
// Bound: max_messages (plus at most one message per reader that waited concurrently) and
// max_bytes (plus the size of the last message admitted).
class ReceiveBuffer {
 public:
  ReceiveBuffer(std::size_t max_messages, std::size_t max_bytes);

  // Blocks until there is room or the buffer is closed; false once closed.
  bool wait_for_room();
  void push(ReceivedMessage message);
  std::vector<ReceivedMessage> pop(std::size_t max_messages, std::chrono::milliseconds wait);

  // Called outside the lock whenever the buffer goes from empty to non-empty.
  void set_ready_callback(std::function<void()> callback);
  void close();  // wakes every waiting reader; messages stay readable

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  bool has_room_locked() const { return messages_.size() < max_messages_ && bytes_ < max_bytes_; }

  const std::size_t max_messages_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::condition_variable data_;
  std::deque<ReceivedMessage> messages_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  std::shared_ptr<const std::function<void()>> ready_callback_;
};

}  // namespace danube::client::detail
