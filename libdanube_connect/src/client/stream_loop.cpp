#include "stream_loop.hpp"

#include <pthread.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

#include "release_guard.hpp"

namespace danube::client::detail {

namespace {

void run_completion(void* tag, bool ok) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(tag);
#endif
  static_cast<StreamCompletion*>(tag)->on_completion(ok);
}

}  // namespace

void* StreamCompletion::tag() {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(this);
#endif
  return this;
}

StreamLoop::StreamLoop(std::string name) : state_(std::make_shared<State>()) {
  state_->name = std::move(name);
}

StreamLoop::~StreamLoop() {
  state_->queue.Shutdown();
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    std::swap(thread, thread_);
  }
  if (!thread.joinable()) {
    // Never started: nothing was queued, and Next() confirms the shutdown.
    void* tag = nullptr;
    bool ok = false;
    while (state_->queue.Next(&tag, &ok))
      run_completion(tag, ok);
  } else if (thread.get_id() == std::this_thread::get_id()) {
    thread.detach();  // the running completion owns the last reference; the state outlives it
  } else {
    thread.join();
  }
}

grpc::CompletionQueue& StreamLoop::queue() {
  std::lock_guard lock(mutex_);
  if (!thread_.joinable()) thread_ = std::thread([state = state_] { run(state); });
  return state_->queue;
}

void StreamLoop::run(const std::shared_ptr<State>& state) {
  // Linux keeps 15 characters of a thread's name.
  pthread_setname_np(pthread_self(), state->name.substr(0, 15).c_str());
  const ReleaseRestriction restriction;
  void* tag = nullptr;
  bool ok = false;
  while (state->queue.Next(&tag, &ok))
    run_completion(tag, ok);
}

}  // namespace danube::client::detail
