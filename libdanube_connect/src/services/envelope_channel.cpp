#include "danube/services/envelope_channel.hpp"

#include <algorithm>

namespace danube::services {

std::shared_ptr<EnvelopeChannel> EnvelopeChannel::create(std::size_t capacity_records,
                                                         std::size_t capacity_bytes) {
  return std::make_shared<EnvelopeChannel>(CreateKey(), capacity_records, capacity_bytes);
}

EnvelopeChannel::EnvelopeChannel(CreateKey, std::size_t capacity_records,
                                 std::size_t capacity_bytes)
    : queue_(capacity_records, capacity_bytes, &envelope_bytes) {}

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

SendStatus EnvelopeChannel::send(SourceEnvelope envelope) {
  return queue_.push(std::move(envelope));
}

SendStatus EnvelopeChannel::send_for(SourceEnvelope envelope, std::chrono::milliseconds timeout) {
  return queue_.push_for(std::move(envelope), timeout);
}

std::vector<SourceEnvelope> EnvelopeChannel::try_receive(std::size_t max_count) {
  return queue_.try_pop(max_count);
}

std::vector<SourceEnvelope> EnvelopeChannel::receive_for(std::size_t max_count,
                                                         std::chrono::milliseconds timeout) {
  return queue_.pop_for(max_count, timeout);
}

void EnvelopeChannel::close() {
  queue_.close();
}

bool EnvelopeChannel::is_closed() const {
  return queue_.is_closed();
}

bool EnvelopeChannel::is_drained() const {
  return queue_.is_drained();
}

void EnvelopeChannel::set_readable_callback(std::function<void()> callback) {
  queue_.set_ready_callback(std::move(callback));
}

}  // namespace danube::services
