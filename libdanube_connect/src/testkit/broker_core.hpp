#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "change_signal.hpp"
#include "danube/DanubeApi.pb.h"
#include "danube/SchemaRegistry.pb.h"
#include "danube/testkit/embedded_broker.hpp"
#include "schema_registry.hpp"
#include "sharded_map.hpp"
#include "subscription.hpp"
#include "timer_queue.hpp"
#include "topic.hpp"

namespace danube::testkit::internal {

// The broker's model, independent of gRPC's server machinery: every client rpc is one method
// taking the request and filling the response, returning the status Danube would return
// (protocol.md table 2.16).
//
// Registries (topics by name, producers and consumers by id) are sharded maps, so the
// SendMessage/Ack hot path takes only per-shard reader locks plus the topic's and the
// subscription's own locks. Topic creation serialises on creation_mutex_ to keep the
// "partitioned and non-partitioned topics with one base name cannot coexist" rule atomic.
class BrokerCore {
 public:
  // Loads topics, logs, cursors and schemas from options.data_dir when set. Throws
  // std::runtime_error (naming the file) on unreadable state, std::invalid_argument on bad
  // options.
  BrokerCore(const BrokerOptions& options, TimerQueue& timers, ChangeSignal& signal);

  // The URL lookups answer with ("http://127.0.0.1:6650"); set before the server starts.
  void set_service_url(std::string url) { service_url_ = std::move(url); }

  grpc::Status topic_lookup(const danube::TopicLookupRequest& request,
                            danube::TopicLookupResponse* response) const;
  grpc::Status topic_partitions(const danube::TopicLookupRequest& request,
                                danube::TopicPartitionsResponse* response) const;
  grpc::Status create_producer(const danube::ProducerRequest& request,
                               danube::ProducerResponse* response);
  grpc::Status send_message(const danube::StreamMessage& message,
                            danube::MessageResponse* response);
  grpc::Status subscribe(const danube::ConsumerRequest& request,
                         danube::ConsumerResponse* response);
  grpc::Status ack(const danube::AckRequest& request, danube::AckResponse* response);
  grpc::Status nack(const danube::NackRequest& request, danube::NackResponse* response);
  grpc::Status health_check(const danube::HealthCheckRequest& request,
                            danube::HealthCheckResponse* response) const;
  grpc::Status list_segment_descriptors(const danube::ListSegmentDescriptorsRequest& request,
                                        danube::ListSegmentDescriptorsResponse* response) const;

  // Where a consumer's ReceiveMessages stream goes.
  struct StreamTarget {
    std::shared_ptr<Subscription> subscription;
    std::shared_ptr<TopicStats> stats;
    bool reliable = false;
  };
  std::optional<StreamTarget> stream_target(std::uint64_t consumer_id) const;

  SchemaRegistry& schemas() { return schemas_; }
  grpc::Status configure_topic_schema(const danube_schema::ConfigureTopicSchemaRequest& request,
                                      danube_schema::ConfigureTopicSchemaResponse* response);
  grpc::Status get_topic_schema_config(const danube_schema::GetTopicSchemaConfigRequest& request,
                                       danube_schema::GetTopicSchemaConfigResponse* response) const;
  grpc::Status update_topic_validation_policy(
      const danube_schema::UpdateTopicValidationPolicyRequest& request,
      danube_schema::UpdateTopicValidationPolicyResponse* response);

  // Administration (throw std::invalid_argument / std::runtime_error, see EmbeddedBroker).
  void create_namespace(const std::string& name);
  void create_topic(const std::string& name, bool reliable, std::size_t partitions);

  std::optional<TopicCounters> counters(const std::string& topic) const;
  std::vector<std::string> topic_names() const;
  std::optional<SubscriptionSnapshot> subscription(const std::string& topic,
                                                   const std::string& name) const;

  // Fsyncs logs (per policy), persists changed cursors (danube_0_15: not when shutting down) and
  // trims acked log entries.
  void flush(bool shutting_down = false);
  // Forgets producers, consumers and in-flight deliveries, as a restart does.
  void end_sessions();

 private:
  struct ProducerEntry {
    std::shared_ptr<Topic> topic;
    std::string name;
  };

  std::shared_ptr<Topic> find_topic(const std::string& name) const;
  // The topic and subscription an ack or nack names: for an unknown topic NOT_FOUND in lossless
  // mode, INTERNAL (as Danube) in danube_0_15 mode; INTERNAL, as Danube answers, for an unknown
  // subscription.
  grpc::Status find_acked_subscription(const std::string& topic_name,
                                       const std::string& subscription_name, std::string_view verb,
                                       std::shared_ptr<Topic>* topic,
                                       std::shared_ptr<Subscription>* subscription) const;
  bool namespace_exists(const std::string& name) const;
  // Creates the topic (the caller checked name and namespace). ALREADY_EXISTS when the
  // partitioned/non-partitioned rule forbids it; returns the existing topic when it exists.
  grpc::Status create_topic_if_absent(const std::string& name, bool reliable,
                                      const std::string& schema_subject,
                                      std::shared_ptr<Topic>& topic);
  std::shared_ptr<Topic> make_topic(const std::string& name, bool reliable,
                                    TopicSchemaConfig schema, std::uint64_t created_at_ms,
                                    std::uint64_t keep_from);
  std::optional<std::filesystem::path> topic_dir(const std::string& name) const;
  void load_topics();
  std::uint64_t random_id(const std::function<bool(std::uint64_t)>& taken);
  std::string schema_violation(const TopicSchemaConfig& config,
                               const danube::StreamMessage& message) const;
  void publish_dead_letter(danube::StreamMessage message);

  const BrokerOptions options_;
  TimerQueue& timers_;
  ChangeSignal& signal_;
  SubscriptionEnv subscription_env_;
  std::string service_url_;
  SchemaRegistry schemas_;

  mutable std::shared_mutex namespaces_mutex_;
  std::set<std::string> namespaces_;
  std::mutex creation_mutex_;
  ShardedMap<std::string, std::shared_ptr<Topic>> topics_;
  ShardedMap<std::uint64_t, ProducerEntry> producers_;
  ShardedMap<std::uint64_t, std::shared_ptr<ConsumerInfo>> consumers_;

  std::mutex random_mutex_;
  std::mt19937_64 random_;
};

}  // namespace danube::testkit::internal
