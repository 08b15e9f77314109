#include "topic.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

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
                                                       SubscriptionType type, std::uint64_t start) {
  auto subscription = std::make_shared<Subscription>(name, type, env_, start);
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
    const std::uint64_t start = reliable_ ? log_->end_offset() : 0;
    auto created = make_subscription(name, type, start);
    if (!reliable_ || !dir_) return created;
  }
  // A new subscription is persisted at once: if the broker crashed before the next flush it
  // would otherwise come back starting at the (later) latest offset and lose messages.
  save_cursors(true);
  return find_subscription(name);
}

void Topic::restore_subscription(const std::string& name, SubscriptionType type,
                                 std::uint64_t cursor) {
  std::lock_guard lock(mutex_);
  if (subscriptions_.count(name) == 0) make_subscription(name, type, cursor);
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
    lowest = std::min(lowest, subscription->cursor());
  log_->trim_before(subscriptions->empty() ? log_->end_offset() : lowest);
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

void Topic::save_cursors(bool durable) {
  if (!dir_ || !reliable_) return;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& subscription : *subscription_list()) {
    list.push_back({{"name", subscription->name()},
                    {"type", static_cast<int>(subscription->type())},
                    {"cursor", subscription->cursor()}});
  }
  const std::string content = nlohmann::json{{"subscriptions", list}}.dump(2);
  std::lock_guard lock(files_mutex_);
  if (content == saved_cursors_) return;
  write_file_atomically(*dir_ / "subscriptions.json", content, durable);
  saved_cursors_ = content;
}

void Topic::flush(bool durable) {
  if (!dir_ || !reliable_) return;
  log_->sync();
  try {
    save_cursors(durable);
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
