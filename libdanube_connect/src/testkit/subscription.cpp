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
                           std::uint64_t start_position, bool restored)
    : name_(std::move(name)),
      type_(type),
      env_(std::move(env)),
      next_position_(start_position),
      cursor_(start_position),
      retain_from_(start_position),
      start_position_(start_position) {
  if (!env_.reliable || !faithful()) return;
  // A restored subscription replays the log from its cursor and joins the live tail where the
  // log ended at start-up; a new one is on the live tail from its first read.
  tail_from_ = restored ? std::max(start_position, env_.log->end_position()) : start_position;
  if (restored) persisted_cursor_ = start_position;
}

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
  std::string consumer_name;
  std::size_t connected = 0;
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
    consumer_name = member->consumer->name;
    connected = static_cast<std::size_t>(
        std::count_if(members_.begin(), members_.end(),
                      [this](const Member& each) { return is_connected(each); }));
    fill_window(deferred);
  }
  finish(deferred);
  // Tests that start several consumers wait for this line before publishing: on a Shared or
  // KeyShared subscription, who gets a message depends on which streams are open.
  spdlog::info(
      "event=consumer_stream_attached topic={} subscription={} consumer={} connected_consumers={}",
      env_.topic_name, name_, consumer_name, connected);
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
    const auto position = window_position(offset);
    if (!position) return false;
    const auto it = window_.find(*position);
    erase_pending(it);
    ++env_.stats->acked;
    if (gap_start_ && *position > *gap_start_) ++acked_beyond_cursor_;
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
    const auto position = window_position(offset);
    if (!position) return;  // late nack, or an offset that was skipped
    const auto it = window_.find(*position);
    if (it->second.state != State::awaiting_ack) return;  // late nack
    schedule_retry(*position, it->second, delay_ms, std::move(reason));
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
  const auto& log = env_.log;
  snapshot.cursor = log ? log->offset_of(cursor_.load()) : cursor_.load();
  snapshot.next_offset = log ? log->offset_of(next_position_) : next_position_;
  if (env_.reliable && faithful()) {
    snapshot.live_tail = next_position_ >= tail_from_;
    snapshot.skipped_by_lag = skipped_count_;
    for (const auto& [first, end] : skipped_)
      snapshot.skipped.push_back(offsets_of(first, end));
    snapshot.acked_beyond_cursor = acked_beyond_cursor_;
    if (persisted_cursor_) snapshot.persisted_cursor = log->offset_of(*persisted_cursor_);
  }
  return snapshot;
}

std::optional<std::uint64_t> Subscription::cursor_due_for_persist(
    TimerQueue::Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const std::uint64_t cursor = cursor_.load();
  if (cursor <= persisted_cursor_.value_or(start_position_)) return std::nullopt;
  if (last_persist_ && now - *last_persist_ < env_.cursor_persist_interval) return std::nullopt;
  return cursor;
}

std::optional<std::uint64_t> Subscription::persisted_cursor() const {
  std::lock_guard lock(mutex_);
  return persisted_cursor_;
}

void Subscription::mark_persisted(std::uint64_t position, TimerQueue::Clock::time_point now) {
  std::lock_guard lock(mutex_);
  persisted_cursor_ = position;
  last_persist_ = now;
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
    // Unacked entries are dispatched again; entries danube_0_15 skipped stay skipped (its
    // retain_from() is past them), as nothing but a restart from the persisted cursor brings
    // them back.
    next_position_ = retain_from_.load();
    window_.clear();
    ready_.clear();
    exhausted_.clear();
    deadlines_.clear();
    ack_timer_armed_ = false;
    ++ack_timer_generation_;
  }
  finish(deferred);
}

std::optional<std::uint64_t> Subscription::window_position(std::uint64_t offset) const {
  if (!env_.log->offsets_repeat()) {
    if (window_.count(offset) == 0) return std::nullopt;
    return offset;  // positions are the offsets
  }
  // After a cluster-like restart an offset can name an old and a new entry; both can only be in
  // the window together when it spans more than the old sequence, and the older one is meant.
  for (const auto& [position, pending] : window_) {
    if (pending.message->msg_id().topic_offset() == offset) return position;
  }
  return std::nullopt;
}

void Subscription::skip_lagged(std::uint64_t end) {
  const std::uint64_t resume = end - kLiveTailCapacity;
  const std::uint64_t lagged = resume - next_position_;
  // The line Danube's dispatcher logs when its broadcast receiver lagged.
  spdlog::warn(
      "poll_next error topic={} subscription={} skipped_offsets=[{},{}) broadcast error: channel "
      "lagged by {}",
      env_.topic_name, name_, env_.log->offset_of(next_position_),
      env_.log->offset_of(resume - 1) + 1, lagged);
  if (!skipped_.empty() && skipped_.back().second == next_position_) {
    skipped_.back().second = resume;
  } else {
    skipped_.emplace_back(next_position_, resume);
  }
  if (!gap_start_) gap_start_ = next_position_;
  skipped_count_ += lagged;
  env_.stats->skipped_by_lag += lagged;
  next_position_ = resume;
}

OffsetRange Subscription::offsets_of(std::uint64_t first_position,
                                     std::uint64_t end_position) const {
  return OffsetRange{env_.log->offset_of(first_position),
                     env_.log->offset_of(end_position - 1) + 1};
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

bool Subscription::send(std::uint64_t position, Pending& pending, Member& member) {
  const bool redelivery = pending.attempts > 0;
  if (!member.stream->push(pending.message, redelivery ? &env_.stats->redelivered : nullptr)) {
    return false;
  }
  ++pending.attempts;
  pending.state = State::awaiting_ack;
  pending.consumer_id = member.consumer->id;
  deadlines_.push_back(
      AckDeadline{TimerQueue::Clock::now() + env_.policy.ack_timeout, position, pending.attempts});
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
                     env_.topic_name, name_, pending->second.message->msg_id().topic_offset(),
                     pending->second.attempts);
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
    const std::uint64_t end = env_.log->end_position();
    while (!blocked && window_.size() < env_.policy.max_unacked && next_position_ < end) {
      // The live tail only notices that it lagged when it is read, i.e. here.
      if (faithful() && next_position_ >= tail_from_ && end - next_position_ > kLiveTailCapacity) {
        skip_lagged(end);
      }
      // On demand, an entry goes out after the one behind it (BrokerOptions::reorder_every),
      // once the window has room for both.
      const auto every = env_.reorder_every;
      const bool swap =
          every > 0 && next_position_ % every == every - 1 && next_position_ + 1 < end;
      if (swap && window_.size() + 2 > env_.policy.max_unacked) break;
      if (swap && !dispatch_entry(next_position_ + 1)) break;
      if (!dispatch_entry(next_position_)) break;
      next_position_ += swap ? 2 : 1;
    }
  }
  update_cursor();
}

bool Subscription::dispatch_entry(std::uint64_t position) {
  auto message = env_.log->read(position);
  if (!message) {
    // Only possible if the log was trimmed past our cursor, which the topic never does.
    spdlog::error("event=log_entry_missing topic={} subscription={} position={}", env_.topic_name,
                  name_, position);
    return false;
  }
  auto& pending = window_[position];
  pending.message = std::move(message);
  Member* member = pick_consumer(*pending.message);
  if (member == nullptr || !send(position, pending, *member)) ready_.insert(position);
  return true;
}

void Subscription::redeliver_consumer(std::uint64_t consumer_id) {
  for (auto& [position, pending] : window_) {
    if (pending.state == State::awaiting_ack && pending.consumer_id == consumer_id) {
      pending.state = State::ready;
      pending.consumer_id = 0;
      ready_.insert(position);
    }
  }
}

void Subscription::schedule_retry(std::uint64_t position, Pending& pending,
                                  std::optional<std::uint64_t> delay_ms, std::string reason) {
  pending.consumer_id = 0;
  pending.last_failure = std::move(reason);
  if (pending.attempts > env_.policy.max_redelivery_count) {
    pending.state = State::exhausted;
    exhausted_.insert(position);
    spdlog::warn("event=redelivery_exhausted topic={} subscription={} offset={} attempts={}",
                 env_.topic_name, name_, pending.message->msg_id().topic_offset(),
                 pending.attempts);
    return;
  }
  const auto delay = redelivery_delay(env_.policy, pending.attempts, delay_ms);
  if (delay.count() == 0) {
    pending.state = State::ready;
    ready_.insert(position);
    return;
  }
  pending.state = State::waiting_retry;
  env_.timers->schedule_after(delay,
                              [weak = weak_from_this(), position, attempts = pending.attempts] {
                                if (const auto self = weak.lock())
                                  self->retry_due(position, attempts);
                              });
}

void Subscription::retry_due(std::uint64_t position, std::uint32_t attempts) {
  Deferred deferred;
  {
    std::lock_guard lock(mutex_);
    const auto it = window_.find(position);
    if (it == window_.end() || it->second.state != State::waiting_retry ||
        it->second.attempts != attempts) {
      return;
    }
    it->second.state = State::ready;
    ready_.insert(position);
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
      const auto it = window_.find(deadline.position);
      if (it == window_.end() || it->second.state != State::awaiting_ack ||
          it->second.attempts != deadline.attempts) {
        continue;
      }
      spdlog::debug("event=ack_timeout topic={} subscription={} offset={} attempts={}",
                    env_.topic_name, name_, it->second.message->msg_id().topic_offset(),
                    deadline.attempts);
      schedule_retry(deadline.position, it->second, std::nullopt, "ack timeout");
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
    const auto it = window_.find(deadline.position);
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
  const std::uint64_t unacked = window_.empty() ? next_position_ : window_.begin()->first;
  retain_from_ = unacked;
  cursor_ = gap_start_ ? std::min(*gap_start_, unacked) : unacked;
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
