#include "topic.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "storage_files.hpp"

namespace danube::testkit::internal {

Topic::Topic(Setup setup)
    : name_(std::move(setup.name)),
      reliable_(setup.reliable),
      dir_(std::move(setup.dir)),
      log_(std::move(setup.log)),
      created_at_ms_(setup.created_at_ms),
      env_([&] {
        SubscriptionEnv env = std::move(setup.env);
        env.topic_name = name_;
        env.reliable = reliable_;
        env.log = log_;
        env.stats = stats_;
        return env;
      }()),
      schema_(std::move(setup.schema)) {}

std::uint64_t Topic::attach_producer(const std::string& producer_name,
                                     const std::function<std::uint64_t()>& new_id) {
  std::lock_guard lock(mutex_);
  const auto [it, inserted] = producers_.try_emplace(producer_name, 0);
  if (inserted) it->second = new_id();
  return it->second;
}

TopicSchemaConfig Topic::schema_config() const {
  std::lock_guard lock(mutex_);
  return schema_;
}

void Topic::set_schema_config(TopicSchemaConfig config) {
  {
    std::lock_guard lock(mutex_);
    schema_ = std::move(config);
  }
  save_meta();
}

std::shared_ptr<Subscription> Topic::find_subscription(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = subscriptions_.find(name);
  return it == subscriptions_.end() ? nullptr : it->second;
}

std::shared_ptr<Subscription> Topic::make_subscription(const std::string& name,
                                                       SubscriptionType type, std::uint64_t start,
                                                       bool restored) {
  auto subscription = std::make_shared<Subscription>(name, type, env_, start, restored);
  subscriptions_.emplace(name, subscription);
  auto list = std::make_shared<SubscriptionList>(*subscription_list_);
  list->push_back(subscription);
  subscription_list_ = std::move(list);
  return subscription;
}

std::shared_ptr<Subscription> Topic::get_or_create_subscription(const std::string& name,
                                                                SubscriptionType type) {
  {
    std::lock_guard lock(mutex_);
    const auto it = subscriptions_.find(name);
    if (it != subscriptions_.end()) return it->second;
    // Danube starts a new subscription at the latest offset: earlier messages are not delivered.
    const std::uint64_t start = reliable_ ? log_->end_position() : 0;
    auto created = make_subscription(name, type, start, false);
    // Danube persists nothing for a subscription until its cursor advances.
    if (!reliable_ || !dir_ || faithful()) return created;
  }
  // A new subscription is persisted at once: if the broker crashed before the next flush it
  // would otherwise come back starting at the (later) latest offset and lose messages.
  save_cursors(true, false);
  return find_subscription(name);
}

void Topic::restore_subscription(const std::string& name, SubscriptionType type,
                                 std::uint64_t cursor) {
  std::lock_guard lock(mutex_);
  if (subscriptions_.count(name) == 0) make_subscription(name, type, cursor, true);
}

std::vector<std::shared_ptr<Subscription>> Topic::subscriptions() const {
  return *subscription_list();
}

std::shared_ptr<const Topic::SubscriptionList> Topic::subscription_list() const {
  std::lock_guard lock(mutex_);
  return subscription_list_;
}

Topic::PublishResult Topic::publish(danube::StreamMessage message) {
  PublishResult result;
  const auto subscriptions = subscription_list();
  if (reliable_) {
    auto appended = log_->append(std::move(message));
    if (!appended.offset) {
      result.backlog_full = appended.backlog_full;
      result.error = appended.backlog_full ? "topic backlog limit reached" : appended.error;
      return result;
    }
    ++stats_->published;
    for (const auto& subscription : *subscriptions)
      subscription->dispatch();
    trim_log();
  } else {
    // Danube hands a non-reliable message to every subscription inline and forgets it.
    const auto shared = std::make_shared<const danube::StreamMessage>(std::move(message));
    ++stats_->published;
    if (subscriptions->empty()) ++stats_->dropped;
    for (const auto& subscription : *subscriptions) {
      if (!subscription->deliver(shared)) ++stats_->dropped;
    }
  }
  result.ok = true;
  return result;
}

void Topic::trim_log() {
  if (!reliable_) return;
  const auto subscriptions = subscription_list();
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  for (const auto& subscription : *subscriptions)
    lowest = std::min(lowest, subscription->retain_from());
  log_->trim_before(subscriptions->empty() ? log_->end_position() : lowest);
}

void Topic::save_meta() const {
  if (!dir_) return;
  const auto schema = schema_config();
  const nlohmann::json meta = {
      {"name", name_},
      {"reliable", reliable_},
      {"created_at_ms", created_at_ms_},
      {"schema_subject", schema.subject},
      {"validation_policy", schema.validation_policy},
      {"payload_validation", schema.payload_validation},
  };
  std::lock_guard lock(files_mutex_);
  std::filesystem::create_directories(*dir_);
  write_file_atomically(*dir_ / "meta.json", meta.dump(2), true);
}

void Topic::save_cursors(bool durable, bool shutting_down) {
  if (!dir_ || !reliable_) return;
  // Danube's cursors are written by a periodic task that a shutdown does not run once more.
  if (faithful() && shutting_down) return;
  const auto now = TimerQueue::Clock::now();
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::pair<std::shared_ptr<Subscription>, std::uint64_t>> advanced;
  for (const auto& subscription : *subscription_list()) {
    std::optional<std::uint64_t> cursor = subscription->cursor();
    if (faithful()) {
      const auto due = subscription->cursor_due_for_persist(now);
      if (due) advanced.emplace_back(subscription, *due);
      cursor = due ? due : subscription->persisted_cursor();
      if (!cursor) continue;  // never advanced: not persisted
    }
    list.push_back({{"name", subscription->name()},
                    {"type", static_cast<int>(subscription->type())},
                    {"cursor", *cursor}});
  }
  const std::string content = nlohmann::json{{"subscriptions", list}}.dump(2);
  {
    std::lock_guard lock(files_mutex_);
    if (content == saved_cursors_) return;
    write_file_atomically(*dir_ / "subscriptions.json", content, durable);
    saved_cursors_ = content;
  }
  // Recorded only once written, so a failed write is retried at the next flush.
  for (const auto& [subscription, cursor] : advanced)
    subscription->mark_persisted(cursor, now);
  if (!advanced.empty()) env_.signal->notify();
}

void Topic::flush(bool durable, bool shutting_down) {
  if (!dir_ || !reliable_) return;
  log_->sync();
  try {
    save_cursors(durable, shutting_down);
  } catch (const std::exception& error) {
    spdlog::error("event=cursor_save_failed topic={} error=\"{}\"", name_, error.what());
  }
  trim_log();
}

void Topic::end_sessions() {
  {
    std::lock_guard lock(mutex_);
    producers_.clear();
  }
  for (const auto& subscription : *subscription_list())
    subscription->end_sessions();
}

}  // namespace danube::testkit::internal
