#include "danube/connect/source_sender.hpp"

#include "danube/connect/error.hpp"

namespace danube::connect {

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
