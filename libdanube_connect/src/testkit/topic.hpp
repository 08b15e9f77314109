#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "danube/DanubeApi.pb.h"
#include "message_log.hpp"
#include "subscription.hpp"

namespace danube::testkit::internal {

// A topic's schema binding and broker-side validation (danube_schema.ConfigureTopicSchema).
struct TopicSchemaConfig {
  std::string subject;                     // empty: none
  std::string validation_policy = "none";  // none | warn | enforce
  bool payload_validation = false;
};

// One topic: its dispatch strategy (fixed at creation), producers by name, subscriptions, the
// reliable log and the counters. With a data directory the topic owns `dir/` holding meta.json,
// log (reliable) and subscriptions.json (reliable cursors, as log positions).
//
// Cursor persistence follows the dispatch fidelity: lossless mode writes every changed cursor on
// each flush, new subscriptions at once and everything at shutdown; danube_0_15 writes a cursor
// only when it advanced, at most every cursor_persist_interval, and never at shutdown, so a
// subscription that never acked is not persisted at all (Danube's behaviour).
class Topic {
 public:
  struct Setup {
    std::string name;
    bool reliable = false;
    std::optional<std::filesystem::path> dir;  // nullopt: in memory
    std::shared_ptr<MessageLog> log;           // reliable only
    TopicSchemaConfig schema;
    std::uint64_t created_at_ms = 0;
    SubscriptionEnv env;  // template for this topic's subscriptions (topic fields filled here)
  };

  explicit Topic(Setup setup);

  const std::string& name() const { return name_; }
  bool reliable() const { return reliable_; }
  const std::shared_ptr<TopicStats>& stats() const { return stats_; }
  std::uint64_t created_at_ms() const { return created_at_ms_; }
  const std::shared_ptr<MessageLog>& log() const { return log_; }

  // The producer id registered under `producer_name`, registering `new_id()` when absent.
  std::uint64_t attach_producer(const std::string& producer_name,
                                const std::function<std::uint64_t()>& new_id);

  TopicSchemaConfig schema_config() const;
  void set_schema_config(TopicSchemaConfig config);

  std::shared_ptr<Subscription> find_subscription(const std::string& name) const;
  std::shared_ptr<Subscription> get_or_create_subscription(const std::string& name,
                                                           SubscriptionType type);
  // Recreates a subscription from persisted state (reliable topics at start-up); `cursor` is a
  // log position.
  void restore_subscription(const std::string& name, SubscriptionType type, std::uint64_t cursor);
  std::vector<std::shared_ptr<Subscription>> subscriptions() const;

  struct PublishResult {
    bool ok = false;
    bool backlog_full = false;
    std::string error;
  };
  PublishResult publish(danube::StreamMessage message);

  // Frees log entries no subscription will read again.
  void trim_log();
  // Persists meta.json (always written atomically and durably; it changes rarely).
  void save_meta() const;
  // Persists cursors when they changed since the last call (see above); fsyncs the log per
  // policy. `shutting_down`: the broker is stopping.
  void flush(bool durable, bool shutting_down);
  void end_sessions();

 private:
  using SubscriptionList = std::vector<std::shared_ptr<Subscription>>;
  std::shared_ptr<const SubscriptionList> subscription_list() const;
  std::shared_ptr<Subscription> make_subscription(const std::string& name, SubscriptionType type,
                                                  std::uint64_t start, bool restored);
  bool faithful() const { return env_.fidelity == DispatchFidelity::danube_0_15; }
  void save_cursors(bool durable, bool shutting_down);

  const std::string name_;
  const bool reliable_;
  const std::optional<std::filesystem::path> dir_;
  const std::shared_ptr<MessageLog> log_;
  const std::shared_ptr<TopicStats> stats_ = std::make_shared<TopicStats>();
  const std::uint64_t created_at_ms_;
  const SubscriptionEnv env_;

  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> producers_;
  TopicSchemaConfig schema_;
  std::map<std::string, std::shared_ptr<Subscription>> subscriptions_;
  // Copy-on-write list read on every publish: the publish path copies one shared_ptr.
  std::shared_ptr<const SubscriptionList> subscription_list_ = std::make_shared<SubscriptionList>();
  mutable std::mutex files_mutex_;  // serialises writers of meta.json and subscriptions.json
  std::string saved_cursors_;       // last content written to subscriptions.json
};

}  // namespace danube::testkit::internal
