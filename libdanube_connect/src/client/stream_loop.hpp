#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace danube::client::detail {

// What a tag on a StreamLoop's completion queue points to.
class StreamCompletion {
 public:
  virtual void on_completion(bool ok) = 0;
  // The tag to queue an operation with. The hand-over of a tag to the loop's thread happens in
  // gRPC core, which Debian does not build with ThreadSanitizer: under TSan this tells it that
  // what the caller did before queueing happens before the completion runs.
  void* tag();

 protected:
  ~StreamCompletion() = default;
};

// One completion queue and the one thread that serves it, for every ReceiveMessages stream of
// a client: the partition readers start, read and finish their streams on it, so a consumer of
// many partitions costs no thread per partition. The thread starts with the first stream and
// runs under a ReleaseRestriction (it runs the receive buffer's ready callback, which belongs
// to the application).
//
// Whoever queues an operation with a tag keeps the tag alive until its completion has run; the
// loop must be destroyed only once every stream it served has finished. The queue is owned
// jointly by the handle and the thread, as in Scheduler, so a destruction on the loop's own
// thread detaches instead of joining itself.
class StreamLoop {
 public:
  explicit StreamLoop(std::string name);
  ~StreamLoop();  // shuts the queue down and joins the thread (detaches it when called on it)
  StreamLoop(const StreamLoop&) = delete;
  StreamLoop& operator=(const StreamLoop&) = delete;

  // The queue to start operations on; starts the thread on first use.
  grpc::CompletionQueue& queue();

 private:
  struct State {
    std::string name;
    grpc::CompletionQueue queue;
  };
  static void run(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::mutex mutex_;
  std::thread thread_;
};

}  // namespace danube::client::detail
