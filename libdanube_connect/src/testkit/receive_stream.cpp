#include "receive_stream.hpp"

#include <algorithm>

namespace danube::testkit::internal {

ReceiveStream::ReceiveStream(std::size_t capacity, Delivered on_delivered, Closed on_closed)
    : capacity_(capacity),
      on_delivered_(std::move(on_delivered)),
      on_closed_(std::move(on_closed)) {}

bool ReceiveStream::push(std::shared_ptr<const danube::StreamMessage> message,
                         std::atomic<std::uint64_t>* count_if_accepted) {
  const danube::StreamMessage* to_write = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (finish_wanted_) return false;
    if (capacity_ != 0 && queue_.size() >= capacity_) return false;
    if (count_if_accepted != nullptr) ++*count_if_accepted;
    queue_.push_back(std::move(message));
    if (writing_) return true;
    writing_ = true;
    to_write = queue_.front().get();
  }
  StartWrite(to_write);
  return true;
}

void ReceiveStream::finish(grpc::Status status) {
  {
    std::lock_guard lock(mutex_);
    open_ = false;
    if (finish_wanted_) return;
    finish_wanted_ = true;
    final_status_ = std::move(status);
    // gRPC sends the status after pending messages anyway, but finishing from OnWriteDone keeps
    // exactly one operation outstanding at a time, which is the simplest contract to reason about.
    if (writing_) return;
    finish_called_ = true;
  }
  Finish(final_status_);
}

void ReceiveStream::OnWriteDone(bool ok) {
  const danube::StreamMessage* to_write = nullptr;
  bool call_finish = false;
  {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (!ok && !finish_wanted_) {
      // The client went away; OnCancel follows, but stop accepting messages right now.
      open_ = false;
      finish_wanted_ = true;
      final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
    }
    if (finish_wanted_) {
      if (!finish_called_) {
        finish_called_ = true;
        call_finish = true;
      }
    } else if (!queue_.empty()) {
      writing_ = true;
      to_write = queue_.front().get();
    }
  }
  if (ok && on_delivered_) on_delivered_();
  if (call_finish) {
    Finish(final_status_);
  } else if (to_write != nullptr) {
    StartWrite(to_write);
  }
}

void ReceiveStream::OnCancel() {
  finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
}

void ReceiveStream::OnDone() {
  const auto keep_alive = shared_from_this();
  Closed on_closed;
  {
    std::lock_guard lock(mutex_);
    open_ = false;
    queue_.clear();
    on_closed = std::move(on_closed_);
  }
  if (on_closed) on_closed(*this);
}

void StreamRegistry::add(std::shared_ptr<ReceiveStream> stream) {
  std::lock_guard lock(mutex_);
  streams_.push_back(std::move(stream));
}

void StreamRegistry::remove(const ReceiveStream& stream) {
  std::shared_ptr<ReceiveStream> removed;  // released after our lock, never under it
  {
    std::lock_guard lock(mutex_);
    const auto found = std::find_if(streams_.begin(), streams_.end(), [&](const auto& candidate) {
      return candidate.get() == &stream;
    });
    if (found == streams_.end()) return;
    removed = std::move(*found);
    streams_.erase(found);
    if (streams_.empty()) emptied_.notify_all();
  }
}

void StreamRegistry::finish_all(const grpc::Status& status) {
  std::vector<std::shared_ptr<ReceiveStream>> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = streams_;
  }
  for (const auto& stream : snapshot)
    stream->finish(status);
}

bool StreamRegistry::wait_until_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return emptied_.wait_for(lock, timeout, [this] { return streams_.empty(); });
}

}  // namespace danube::testkit::internal
