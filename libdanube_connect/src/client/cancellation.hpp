#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace danube::client::detail {

// Stops a thread that is blocked in client work — waiting for a connection, inside a unary
// call, or sleeping between retries — from another thread, at once. Closing a consumer or a
// producer cancels its Cancellation, so a close never waits out connect or request timeouts
// against a broker that is down.
class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  void cancel();  // idempotent; cancels the tracked call, wakes sleepers
  bool cancelled() const;
  // Sleeps for `delay` unless cancelled first; false when cancelled.
  bool sleep_for(std::chrono::milliseconds delay) const;

  // While alive, cancel() also cancels `context`'s call; a call tracked after cancel() is
  // cancelled at once. `owner` may be null (nothing to track).
  class Tracked {
   public:
    Tracked(const Cancellation* owner, grpc::ClientContext& context);
    ~Tracked();
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;

   private:
    const Cancellation* owner_;
    grpc::ClientContext& context_;
  };

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  mutable std::vector<grpc::ClientContext*> calls_;
  bool cancelled_ = false;
};

}  // namespace danube::client::detail
