#include "cancellation.hpp"

#include <algorithm>

namespace danube::client::detail {

void Cancellation::cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    for (grpc::ClientContext* call : calls_)
      call->TryCancel();
  }
  wake_.notify_all();
}

bool Cancellation::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

bool Cancellation::sleep_for(std::chrono::milliseconds delay) const {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return cancelled_; });
}

Cancellation::Tracked::Tracked(const Cancellation* owner, grpc::ClientContext& context)
    : owner_(owner), context_(context) {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->calls_.push_back(&context_);
  if (owner_->cancelled_) context_.TryCancel();
}

Cancellation::Tracked::~Tracked() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  auto& calls = owner_->calls_;
  calls.erase(std::find(calls.begin(), calls.end(), &context_));
}

}  // namespace danube::client::detail
