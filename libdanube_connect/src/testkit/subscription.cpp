#include "subscription.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace danube::testkit::internal {
namespace {

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// splitmix64's finaliser: spreads (key hash ^ consumer id) over all 64 bits.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string_view routing_key_of(const danube::StreamMessage& message) {
  if (message.has_routing_key() && !message.routing_key().empty()) return message.routing_key();
  return message.producer_name();
}

bool filters_accept(const std::vector<std::string>& filters, std::string_view key) {
  if (filters.empty()) return true;
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& filter) { return glob_match(filter, key); });
}

std::chrono::milliseconds redelivery_delay(const DeliveryPolicy& policy, std::uint32_t attempts,
                                           std::optional<std::uint64_t> requested_ms) {
  const auto base = static_cast<std::uint64_t>(policy.backoff_initial.count());
  const std::uint32_t exponent = std::min<std::uint32_t>(attempts == 0 ? 0 : attempts - 1, 40);
  std::uint64_t backoff = base;
  for (std::uint32_t i = 0; i < exponent && backoff < (1ULL << 50); ++i)
    backoff *= 2;
  const std::uint64_t wanted = std::max(backoff, requested_ms.value_or(0));
  const auto cap = static_cast<std::uint64_t>(policy.backoff_max.count());
  return std::chrono::milliseconds(std::min(wanted, cap));
}

}  // namespace

std::string_view to_string(SubscriptionType type) {
  switch (type) {
    case SubscriptionType::exclusive:
      return "Exclusive";
    case SubscriptionType::shared:
      return "Shared";
    case SubscriptionType::failover:
      return "Failover";
    case SubscriptionType::key_shared:
      return "KeyShared";
  }
  return "Unknown";
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

Subscription::Subscription(std::string name, SubscriptionType type, SubscriptionEnv env,
                           std::uint64_t start_offset)
    : name_(std::move(name)),
      type_(type),
      env_(std::move(env)),
      next_offset_(start_offset),
      cursor_(start_offset) {}

grpc::Status Subscription::add_consumer(const std::string& consumer_name,
                                        std::vector<std::string> key_filters,
                                        const std::function<std::uint64_t()>& new_id,
                                        std::shared_ptr<ConsumerInfo>& consumer,
                                        std::vector<std::uint64_t>& replaced) {
  Deferred deferred;
  deferred.end_status =
      grpc::Status(grpc::StatusCode::CANCELLED, "consumer taken over by a new Subscribe");
  {
    std::lock_guard lock(mutex_);
    const auto existing = std::find_if(members_.begin(), members_.end(), [&](const Member& member) {
      return member.consumer->name == consumer_name;
    });
    if (existing != members_.end()) {
      if (existing->stream) deferred.streams_to_end.push_back(std::move(existing->stream));
      existing->stream.reset();
      existing->consumer->active = true;
      redeliver_consumer(existing->consumer->id);
      consumer = existing->consumer;
      fill_window(deferred);
    } else {
      if (type_ == SubscriptionType::exclusive) {
        const bool taken = std::any_of(members_.begin(), members_.end(), [](const Member& member) {
          return member.consumer->active.load();
        });
        if (taken) {
          return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                              "Not allowed to add the Consumer: " + consumer_name +
                                  ", the Exclusive subscription can't be shared with other "
                                  "consumers");
        }
        // Consumers that went away without coming back no longer hold the subscription.
        for (auto& member : members_) {
          replaced.push_back(member.consumer->id);
          redeliver_consumer(member.consumer->id);
        }
        members_.clear();
      }
      auto created = std::make_shared<ConsumerInfo>();
      created->id = new_id();
      created->name = consumer_name;
      created->topic = env_.topic_name;
      created->subscription_name = name_;
      created->key_filters = std::move(key_filters);
      created->subscription = weak_from_this();
      members_.push_back(Member{created, nullptr});
      consumer = std::move(created);
    }
  }
  finish(deferred);
  return grpc::Status::OK;
}

bool Subscription::attach_stream(std::uint64_t consumer_id, std::shared_ptr<ReceiveStream> stream) {
  Deferred deferred;
  deferred.end_status =
      grpc::Status(grpc::StatusCode::CANCELLED, "stream replaced by a newer ReceiveMessages call");
  {
    std::lock_guard lock(mutex_);
    Member* member = find_member(consumer_id);
    if (member == nullptr) return false;
    // A stream that ended before it got here (latency injection) has seen its OnDone or will
    // see it with nothing to undo: attaching it would leave a dead stream in place.
    if (!stream->is_open()) return true;
    if (member->stream) {
      deferred.streams_to_end.push_back(std::move(member->stream));
      redeliver_consumer(consumer_id);
    }
    member->stream = std::move(stream);
    member->consumer->active = true;
    fill_window(deferred);
  }
  finish(deferred);
  return true;
}

void Subscription::stream_closed(std::uint64_t consumer_id, const ReceiveStream& stream) {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    Member* member = find_member(consumer_id);
    if (member == nullptr || member->stream.get() != &stream) return;
    member->stream.reset();
    member->consumer->active = false;
    redeliver_consumer(consumer_id);
    fill_window(deferred);
  }
  finish(deferred);
}

void Subscription::dispatch() {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    fill_window(deferred);
  }
  finish(deferred);
}

bool Subscription::ack(std::uint64_t offset) {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    const auto it = window_.find(offset);
    if (it == window_.end()) return false;
    erase_pending(it);
    ++env_.stats->acked;
    drop_stale_deadlines();
    fill_window(deferred);
  }
  finish(deferred);
  return true;
}

void Subscription::nack(std::uint64_t offset, std::optional<std::uint64_t> delay_ms,
                        std::string reason) {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    const auto it = window_.find(offset);
    if (it == window_.end() || it->second.state != State::awaiting_ack) return;  // late nack
    schedule_retry(offset, it->second, delay_ms, std::move(reason));
    drop_stale_deadlines();
    fill_window(deferred);
  }
  finish(deferred);
}

bool Subscription::deliver(const std::shared_ptr<const danube::StreamMessage>& message) {
  std::lock_guard lock(mutex_);
  Member* member = pick_consumer(*message);
  return member != nullptr && member->stream->push(message);
}

SubscriptionSnapshot Subscription::snapshot() const {
  std::lock_guard lock(mutex_);
  SubscriptionSnapshot snapshot;
  snapshot.type = std::string(to_string(type_));
  snapshot.consumers = members_.size();
  // Counted until the stream's end is processed (OnDone), so that a test seeing 0 also sees the
  // consumer inactive and its in-flight messages back in the queue.
  snapshot.connected_consumers = static_cast<std::size_t>(
      std::count_if(members_.begin(), members_.end(),
                    [](const Member& member) { return member.stream != nullptr; }));
  snapshot.in_flight = window_.size();
  snapshot.cursor = cursor_.load();
  snapshot.next_offset = next_offset_;
  return snapshot;
}

void Subscription::end_sessions() {
  Deferred deferred;
  deferred.end_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker restarting");
  {
    std::lock_guard lock(mutex_);
    for (auto& member : members_) {
      member.consumer->active = false;
      if (member.stream) deferred.streams_to_end.push_back(std::move(member.stream));
    }
    members_.clear();
    next_offset_ = cursor_.load();
    window_.clear();
    ready_.clear();
    exhausted_.clear();
    deadlines_.clear();
    ack_timer_armed_ = false;
    ++ack_timer_generation_;
  }
  finish(deferred);
}

Subscription::Member* Subscription::find_member(std::uint64_t consumer_id) {
  const auto it = std::find_if(members_.begin(), members_.end(), [&](const Member& member) {
    return member.consumer->id == consumer_id;
  });
  return it == members_.end() ? nullptr : &*it;
}

bool Subscription::is_connected(const Member& member) const {
  return member.stream != nullptr && member.stream->is_open();
}

bool Subscription::any_connected() const {
  return std::any_of(members_.begin(), members_.end(),
                     [this](const Member& member) { return is_connected(member); });
}

Subscription::Member* Subscription::pick_consumer(const danube::StreamMessage& message) {
  switch (type_) {
    case SubscriptionType::exclusive:
    case SubscriptionType::failover: {
      const auto it = std::find_if(members_.begin(), members_.end(),
                                   [this](const Member& member) { return is_connected(member); });
      return it == members_.end() ? nullptr : &*it;
    }
    case SubscriptionType::shared: {
      const std::size_t count = members_.size();
      for (std::size_t step = 0; step < count; ++step) {
        const std::size_t index = (round_robin_ + step) % count;
        if (is_connected(members_[index])) {
          round_robin_ = index + 1;
          return &members_[index];
        }
      }
      return nullptr;
    }
    case SubscriptionType::key_shared: {
      const std::string_view key = routing_key_of(message);
      const std::uint64_t key_hash = fnv1a(key);
      Member* best = nullptr;
      std::uint64_t best_score = 0;
      for (auto& member : members_) {
        if (!is_connected(member) || !filters_accept(member.consumer->key_filters, key)) continue;
        const std::uint64_t score = mix(key_hash ^ mix(member.consumer->id));
        if (best == nullptr || score > best_score) {
          best = &member;
          best_score = score;
        }
      }
      return best;
    }
  }
  return nullptr;
}

bool Subscription::send(std::uint64_t offset, Pending& pending, Member& member) {
  const bool redelivery = pending.attempts > 0;
  if (!member.stream->push(pending.message, redelivery ? &env_.stats->redelivered : nullptr)) {
    return false;
  }
  ++pending.attempts;
  pending.state = State::awaiting_ack;
  pending.consumer_id = member.consumer->id;
  deadlines_.push_back(
      AckDeadline{TimerQueue::Clock::now() + env_.policy.ack_timeout, offset, pending.attempts});
  arm_ack_timer();
  return true;
}

void Subscription::fill_window(Deferred& deferred) {
  if (!env_.reliable) return;
  bool blocked = false;
  for (auto it = exhausted_.begin(); it != exhausted_.end();) {
    const auto pending = window_.find(*it);
    switch (env_.policy.poison) {
      case PoisonPolicy::block:
        blocked = true;
        ++it;
        continue;
      case PoisonPolicy::drop:
        spdlog::warn("event=poison_dropped topic={} subscription={} offset={} attempts={}",
                     env_.topic_name, name_, *it, pending->second.attempts);
        ++env_.stats->dropped;
        break;
      case PoisonPolicy::dead_letter:
        deferred.dead_letters.push_back(make_dead_letter(pending->second));
        ++env_.stats->dead_lettered;
        break;
    }
    it = exhausted_.erase(it);
    window_.erase(pending);
  }

  if (any_connected()) {
    for (auto it = ready_.begin(); it != ready_.end();) {
      auto& pending = window_.at(*it);
      Member* member = pick_consumer(*pending.message);
      if (member != nullptr && send(*it, pending, *member)) {
        it = ready_.erase(it);
      } else {
        ++it;
      }
    }
    const std::uint64_t end = env_.log->end_offset();
    while (!blocked && window_.size() < env_.policy.max_unacked && next_offset_ < end) {
      auto message = env_.log->read(next_offset_);
      if (!message) {
        // Only possible if the log was trimmed past our cursor, which the topic never does.
        spdlog::error("event=log_entry_missing topic={} subscription={} offset={}", env_.topic_name,
                      name_, next_offset_);
        break;
      }
      auto& pending = window_[next_offset_];
      pending.message = std::move(message);
      Member* member = pick_consumer(*pending.message);
      if (member == nullptr || !send(next_offset_, pending, *member)) ready_.insert(next_offset_);
      ++next_offset_;
    }
  }
  update_cursor();
}

void Subscription::redeliver_consumer(std::uint64_t consumer_id) {
  for (auto& [offset, pending] : window_) {
    if (pending.state == State::awaiting_ack && pending.consumer_id == consumer_id) {
      pending.state = State::ready;
      pending.consumer_id = 0;
      ready_.insert(offset);
    }
  }
}

void Subscription::schedule_retry(std::uint64_t offset, Pending& pending,
                                  std::optional<std::uint64_t> delay_ms, std::string reason) {
  pending.consumer_id = 0;
  pending.last_failure = std::move(reason);
  if (pending.attempts > env_.policy.max_redelivery_count) {
    pending.state = State::exhausted;
    exhausted_.insert(offset);
    spdlog::warn("event=redelivery_exhausted topic={} subscription={} offset={} attempts={}",
                 env_.topic_name, name_, offset, pending.attempts);
    return;
  }
  const auto delay = redelivery_delay(env_.policy, pending.attempts, delay_ms);
  if (delay.count() == 0) {
    pending.state = State::ready;
    ready_.insert(offset);
    return;
  }
  pending.state = State::waiting_retry;
  env_.timers->schedule_after(delay,
                              [weak = weak_from_this(), offset, attempts = pending.attempts] {
                                if (const auto self = weak.lock())
                                  self->retry_due(offset, attempts);
                              });
}

void Subscription::retry_due(std::uint64_t offset, std::uint32_t attempts) {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    const auto it = window_.find(offset);
    if (it == window_.end() || it->second.state != State::waiting_retry ||
        it->second.attempts != attempts) {
      return;
    }
    it->second.state = State::ready;
    ready_.insert(offset);
    fill_window(deferred);
  }
  finish(deferred);
}

void Subscription::arm_ack_timer() {
  if (ack_timer_armed_ || deadlines_.empty()) return;
  ack_timer_armed_ = true;
  env_.timers->schedule_at(deadlines_.front().due,
                           [weak = weak_from_this(), generation = ++ack_timer_generation_] {
                             if (const auto self = weak.lock()) self->ack_timer_fired(generation);
                           });
}

void Subscription::ack_timer_fired(std::uint64_t generation) {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    if (generation != ack_timer_generation_) return;
    ack_timer_armed_ = false;
    const auto now = TimerQueue::Clock::now();
    while (!deadlines_.empty() && deadlines_.front().due <= now) {
      const AckDeadline deadline = deadlines_.front();
      deadlines_.pop_front();
      const auto it = window_.find(deadline.offset);
      if (it == window_.end() || it->second.state != State::awaiting_ack ||
          it->second.attempts != deadline.attempts) {
        continue;
      }
      spdlog::debug("event=ack_timeout topic={} subscription={} offset={} attempts={}",
                    env_.topic_name, name_, deadline.offset, deadline.attempts);
      schedule_retry(deadline.offset, it->second, std::nullopt, "ack timeout");
    }
    drop_stale_deadlines();
    arm_ack_timer();
    fill_window(deferred);
  }
  finish(deferred);
}

void Subscription::drop_stale_deadlines() {
  // Keeps the deadline queue about as long as the window when acks arrive in order.
  while (!deadlines_.empty()) {
    const auto& deadline = deadlines_.front();
    const auto it = window_.find(deadline.offset);
    const bool live = it != window_.end() && it->second.state == State::awaiting_ack &&
                      it->second.attempts == deadline.attempts;
    if (live) return;
    deadlines_.pop_front();
  }
}

void Subscription::erase_pending(std::map<std::uint64_t, Pending>::iterator it) {
  ready_.erase(it->first);
  exhausted_.erase(it->first);
  window_.erase(it);
}

void Subscription::update_cursor() {
  cursor_ = window_.empty() ? next_offset_ : window_.begin()->first;
}

void Subscription::finish(Deferred& deferred) {
  for (const auto& stream : deferred.streams_to_end)
    stream->finish(deferred.end_status);
  for (auto& message : deferred.dead_letters) {
    if (env_.publish_dead_letter) env_.publish_dead_letter(std::move(message));
  }
  env_.signal->notify();
}

danube::StreamMessage Subscription::make_dead_letter(const Pending& pending) const {
  // The x-* attributes are the ones Danube's broker adds, so tools that read a Danube DLQ work.
  danube::StreamMessage dead = *pending.message;
  auto& attributes = *dead.mutable_attributes();
  const auto& id = pending.message->msg_id();
  attributes["x-original-topic"] = id.topic_name();
  attributes["x-original-subscription"] = name_;
  attributes["x-original-topic-offset"] = std::to_string(id.topic_offset());
  attributes["x-original-producer-id"] = std::to_string(id.producer_id());
  attributes["x-original-broker-addr"] = id.broker_addr();
  attributes["x-poison-policy"] = "dead_letter";
  attributes["x-delivery-attempt"] = std::to_string(pending.attempts);
  if (!pending.last_failure.empty()) attributes["x-failure-reason"] = pending.last_failure;
  auto* msg_id = dead.mutable_msg_id();
  msg_id->set_producer_id(0);
  msg_id->set_topic_offset(0);
  dead.clear_subscription_name();
  return dead;
}

}  // namespace danube::testkit::internal
