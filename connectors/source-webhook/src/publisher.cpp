#include "publisher.hpp"

#include <algorithm>

namespace danube::webhook {

Publisher::Publisher(std::shared_ptr<AckTracker> tracker, std::chrono::milliseconds send_timeout,
                     std::chrono::milliseconds ack_timeout)
    : tracker_(std::move(tracker)), send_timeout_(send_timeout), ack_timeout_(ack_timeout) {}

void Publisher::attach(connect::SourceSender sender) {
  std::lock_guard lock(mutex_);
  sender_.emplace(std::move(sender));
}

void Publisher::detach() {
  std::lock_guard lock(mutex_);
  sender_.reset();
}

bool Publisher::attached() const {
  const auto current = sender();
  return current && !current->is_closed();
}

std::optional<connect::SourceSender> Publisher::sender() const {
  std::lock_guard lock(mutex_);
  return sender_;
}

Publisher::Outcome Publisher::publish(connect::SourceRecord record, bool reliable) {
  const auto current = sender();
  if (!current) return Outcome::stopped;
  const auto started = AckTracker::Clock::now();
  if (!reliable) {
    // No offset: the runtime does not track the record, so it never holds back the commits
    // that reliable requests wait for.
    switch (current->send_for(connect::SourceEnvelope(std::move(record)), send_timeout_)) {
      case connect::SendStatus::sent:
        return Outcome::accepted;
      case connect::SendStatus::timed_out:
        return Outcome::pipeline_full;
      case connect::SendStatus::closed:
        return Outcome::stopped;
    }
    return Outcome::stopped;
  }
  const auto send_deadline = started + send_timeout_;
  const auto sent = tracker_->send_in_order(send_deadline, [&](std::uint64_t offset) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        send_deadline - AckTracker::Clock::now());
    return current->send_for(
        connect::SourceEnvelope(std::move(record), connect::Offset(kOffsetPartition, offset)),
        std::max(left, std::chrono::milliseconds(0)));
  });
  if (sent.status == connect::SendStatus::timed_out) return Outcome::pipeline_full;
  if (sent.status == connect::SendStatus::closed) return Outcome::stopped;
  switch (tracker_->wait(sent.offset, started + ack_timeout_)) {
    case AckTracker::Outcome::acknowledged:
      return Outcome::stored;
    case AckTracker::Outcome::timed_out:
      return Outcome::not_acknowledged;
    case AckTracker::Outcome::stopped:
      return Outcome::stopped;
  }
  return Outcome::stopped;
}

std::string_view to_string(Publisher::Outcome outcome) {
  switch (outcome) {
    case Publisher::Outcome::stored:
      return "stored";
    case Publisher::Outcome::accepted:
      return "accepted";
    case Publisher::Outcome::pipeline_full:
      return "pipeline_full";
    case Publisher::Outcome::not_acknowledged:
      return "not_acknowledged";
    case Publisher::Outcome::stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace danube::webhook
