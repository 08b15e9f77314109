#include "danube/connect/envelope_channel.hpp"

#include <algorithm>

#include "danube/connect/error.hpp"

namespace danube::connect {

std::shared_ptr<EnvelopeChannel> EnvelopeChannel::create(std::size_t capacity_records,
                                                         std::size_t capacity_bytes) {
  return std::make_shared<EnvelopeChannel>(CreateKey(), capacity_records, capacity_bytes);
}

EnvelopeChannel::EnvelopeChannel(CreateKey, std::size_t capacity_records,
                                 std::size_t capacity_bytes)
    : capacity_records_(std::max<std::size_t>(capacity_records, 1)),
      capacity_bytes_(capacity_bytes) {}

SourceSender EnvelopeChannel::sender() {
  return SourceSender(shared_from_this());
}

std::size_t EnvelopeChannel::envelope_bytes(const SourceEnvelope& envelope) {
  const auto& record = envelope.record;
  std::size_t bytes = record.payload().size() + record.topic().size();
  if (record.key()) bytes += record.key()->size();
  for (const auto& [name, value] : record.attributes())
    bytes += name.size() + value.size();
  return bytes;
}

bool EnvelopeChannel::has_room_locked(std::size_t bytes) const {
  if (queue_.empty()) return true;
  if (queue_.size() >= capacity_records_) return false;
  return capacity_bytes_ == 0 || queued_bytes_ + bytes <= capacity_bytes_;
}

template <class WaitFn>
SendStatus EnvelopeChannel::send_impl(SourceEnvelope envelope, WaitFn&& wait) {
  const std::size_t bytes = envelope_bytes(envelope);
  std::shared_ptr<std::function<void()>> callback;
  {
    std::unique_lock lock(mutex_);
    if (!wait(lock, [&] { return closed_ || has_room_locked(bytes); })) {
      return SendStatus::timed_out;
    }
    if (closed_) return SendStatus::closed;
    const bool was_empty = queue_.empty();
    queue_.push_back(std::move(envelope));
    queued_bytes_ += bytes;
    if (was_empty) callback = readable_callback_;
  }
  not_empty_.notify_one();
  if (callback && *callback) (*callback)();
  return SendStatus::sent;
}

SendStatus EnvelopeChannel::send(SourceEnvelope envelope) {
  return send_impl(std::move(envelope), [this](std::unique_lock<std::mutex>& lock, auto ready) {
    not_full_.wait(lock, ready);
    return true;
  });
}

SendStatus EnvelopeChannel::send_for(SourceEnvelope envelope, std::chrono::milliseconds timeout) {
  return send_impl(std::move(envelope),
                   [this, timeout](std::unique_lock<std::mutex>& lock, auto ready) {
                     return not_full_.wait_for(lock, timeout, ready);
                   });
}

std::vector<SourceEnvelope> EnvelopeChannel::take_locked(std::size_t max_count) {
  std::vector<SourceEnvelope> taken;
  const std::size_t count = std::min(max_count, queue_.size());
  taken.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    queued_bytes_ -= envelope_bytes(queue_.front());
    taken.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return taken;
}

std::vector<SourceEnvelope> EnvelopeChannel::try_receive(std::size_t max_count) {
  std::vector<SourceEnvelope> taken;
  {
    std::lock_guard lock(mutex_);
    taken = take_locked(max_count);
  }
  if (!taken.empty()) not_full_.notify_all();
  return taken;
}

std::vector<SourceEnvelope> EnvelopeChannel::receive_for(std::size_t max_count,
                                                         std::chrono::milliseconds timeout) {
  std::vector<SourceEnvelope> taken;
  {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout, [this] { return closed_ || !queue_.empty(); });
    taken = take_locked(max_count);
  }
  if (!taken.empty()) not_full_.notify_all();
  return taken;
}

void EnvelopeChannel::close() {
  std::shared_ptr<std::function<void()>> callback;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    callback = readable_callback_;
  }
  not_full_.notify_all();
  not_empty_.notify_all();
  if (callback && *callback) (*callback)();
}

bool EnvelopeChannel::is_closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool EnvelopeChannel::is_drained() const {
  std::lock_guard lock(mutex_);
  return closed_ && queue_.empty();
}

void EnvelopeChannel::set_readable_callback(std::function<void()> callback) {
  auto shared = std::make_shared<std::function<void()>>(std::move(callback));
  bool call_now;
  {
    std::lock_guard lock(mutex_);
    readable_callback_ = shared;
    call_now = closed_ || !queue_.empty();
  }
  if (call_now && *shared) (*shared)();
}

std::size_t EnvelopeChannel::size() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t EnvelopeChannel::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_;
}

bool SourceSender::send(SourceEnvelope envelope) const {
  return channel_->send(std::move(envelope)) == SendStatus::sent;
}

SendStatus SourceSender::send_for(SourceEnvelope envelope,
                                  std::chrono::milliseconds timeout) const {
  return channel_->send_for(std::move(envelope), timeout);
}

std::size_t SourceSender::send_batch(std::vector<SourceEnvelope> envelopes) const {
  std::size_t sent = 0;
  for (auto& envelope : envelopes) {
    if (channel_->send(std::move(envelope)) != SendStatus::sent) break;
    ++sent;
  }
  return sent;
}

void SourceSender::send_or_throw(SourceEnvelope envelope) const {
  if (channel_->send(std::move(envelope)) != SendStatus::sent) {
    throw ConnectorError::fatal("failed to emit source envelope: channel closed");
  }
}

bool SourceSender::is_closed() const {
  return channel_->is_closed();
}

}  // namespace danube::connect
