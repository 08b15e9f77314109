#include "receive_buffer.hpp"

namespace danube::client::detail {
namespace {

std::size_t footprint(const ReceivedMessage& message) {
  std::size_t size = message.payload.size() + message.id.topic_name.size() +
                     message.producer_name.size() + sizeof(ReceivedMessage);
  for (const auto& [key, value] : message.attributes) size += key.size() + value.size();
  return size;
}

}  // namespace

ReceiveBuffer::ReceiveBuffer(std::size_t max_messages, std::size_t max_bytes)
    : max_messages_(std::max<std::size_t>(1, max_messages)),
      max_bytes_(std::max<std::size_t>(1, max_bytes)) {}

bool ReceiveBuffer::wait_for_room() {
  std::unique_lock lock(mutex_);
  room_.wait(lock, [&] { return closed_ || has_room_locked(); });
  return !closed_;
}

void ReceiveBuffer::push(ReceivedMessage message) {
  std::shared_ptr<const std::function<void()>> callback;
  {
    std::lock_guard lock(mutex_);
    const bool was_empty = messages_.empty();
    bytes_ += footprint(message);
    messages_.push_back(std::move(message));
    if (was_empty) callback = ready_callback_;
  }
  data_.notify_one();
  if (callback && *callback) (*callback)();
}

std::vector<ReceivedMessage> ReceiveBuffer::pop(std::size_t max_messages,
                                                std::chrono::milliseconds wait) {
  std::vector<ReceivedMessage> taken;
  {
    std::unique_lock lock(mutex_);
    if (wait.count() > 0) data_.wait_for(lock, wait, [&] { return !messages_.empty(); });
    const std::size_t count = std::min(max_messages, messages_.size());
    taken.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      bytes_ -= footprint(messages_.front());
      taken.push_back(std::move(messages_.front()));
      messages_.pop_front();
    }
  }
  if (!taken.empty()) room_.notify_all();
  return taken;
}

void ReceiveBuffer::set_ready_callback(std::function<void()> callback) {
  std::shared_ptr<const std::function<void()>> to_call;
  {
    std::lock_guard lock(mutex_);
    ready_callback_ = callback ? std::make_shared<const std::function<void()>>(std::move(callback))
                               : nullptr;
    if (!messages_.empty()) to_call = ready_callback_;
  }
  if (to_call) (*to_call)();
}

void ReceiveBuffer::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  room_.notify_all();
  data_.notify_all();
}

std::size_t ReceiveBuffer::size() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

std::size_t ReceiveBuffer::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace danube::client::detail
