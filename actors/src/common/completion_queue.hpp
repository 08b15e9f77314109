#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace danube::runtime {

// Completions (acks, sends) reported by the broker client's threads, handed to one actor in
// batches: the thread that makes the queue non-empty signals the actor, and the actor takes
// everything that arrived by the time it runs. One actor message per burst of completions
// instead of one per record; no wakeup is lost, since every signal follows a push into an
// empty queue and every take empties it.
template <class Completion>
class CompletionQueue {
 public:
  // True when the queue was empty: the caller signals the actor.
  bool push(Completion completion) {
    const std::lock_guard lock(mutex_);
    items_.push_back(std::move(completion));
    return items_.size() == 1;
  }

  std::vector<Completion> take_all() {
    std::vector<Completion> taken;
    const std::lock_guard lock(mutex_);
    taken.swap(items_);
    return taken;
  }

 private:
  std::mutex mutex_;
  std::vector<Completion> items_;
};

}  // namespace danube::runtime
