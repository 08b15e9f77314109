#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "danube/DanubeApi.pb.h"

namespace danube::testkit::internal {

// The server side of one ReceiveMessages call.
//
// It writes one message at a time and starts the next write from OnWriteDone, so a client that
// reads slowly stops the broker through HTTP/2 flow control instead of growing a buffer. The
// queue in front of the writer is bounded by `capacity` (Danube's per-consumer channel of 4 for
// non-reliable topics) or, for reliable topics, by the subscription's unacked window.
//
// Lifetime: gRPC may call our reactions until OnDone, so the object must live until then. Its
// owners (the broker's stream registry and the subscription) hold shared_ptrs; OnDone runs the
// closed-callback, which drops them, and a local shared_ptr keeps `this` alive to the end.
//
// Locking: our mutex guards only the queue and flags; StartWrite and Finish are called after
// releasing it, so a reaction running on another thread never waits for a caller of push().
class ReceiveStream : public grpc::ServerWriteReactor<danube::StreamMessage>,
                      public std::enable_shared_from_this<ReceiveStream> {
 public:
  using Delivered = std::function<void()>;
  using Closed = std::function<void(ReceiveStream&)>;

  // capacity 0: unbounded. `on_delivered` runs after each successful write; `on_closed` once,
  // from OnDone.
  ReceiveStream(std::size_t capacity, Delivered on_delivered, Closed on_closed);

  // Queues a message; false when the stream is closing or its queue is full. When accepted,
  // `count_if_accepted` (if given) is incremented before the write can start, so a client that
  // sees the message also sees the counter.
  bool push(std::shared_ptr<const danube::StreamMessage> message,
            std::atomic<std::uint64_t>* count_if_accepted = nullptr);
  // Ends the call with `status` once the write in progress (if any) completes. Idempotent.
  void finish(grpc::Status status);
  // False once the stream is finishing, cancelled or broken.
  bool is_open() const { return open_.load(); }

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  const std::size_t capacity_;
  const Delivered on_delivered_;
  Closed on_closed_;

  std::mutex mutex_;
  std::deque<std::shared_ptr<const danube::StreamMessage>> queue_;  // front is being written
  bool writing_ = false;
  bool finish_wanted_ = false;
  bool finish_called_ = false;
  grpc::Status final_status_;
  std::atomic<bool> open_{true};
};

// Every live ReceiveStream, so that cut_streams() and stop() can end them all.
class StreamRegistry {
 public:
  void add(std::shared_ptr<ReceiveStream> stream);
  void remove(const ReceiveStream& stream);
  void finish_all(const grpc::Status& status);
  // Blocks until every registered stream reached OnDone or the timeout passed.
  bool wait_until_empty(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable emptied_;
  std::vector<std::shared_ptr<ReceiveStream>> streams_;
};

}  // namespace danube::testkit::internal
