#include "broker_core.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "danube/common/json_nesting.hpp"
#include "danube/common/topic_name.hpp"
#include "storage_files.hpp"

namespace danube::testkit::internal {
namespace {

using grpc::Status;
using grpc::StatusCode;

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

Status invalid_topic(const std::string& name, const std::string& why) {
  return Status(StatusCode::INVALID_ARGUMENT, "invalid topic name '" + name + "': " + why);
}

bool is_partition_of(const std::string& candidate, const std::string& base) {
  const std::string prefix = base + "-part-";
  if (candidate.size() <= prefix.size() || candidate.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  return std::all_of(candidate.begin() + static_cast<std::ptrdiff_t>(prefix.size()),
                     candidate.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_valid_namespace_name(const std::string& name) {
  // A namespace is valid exactly when "/<name>/t" is a valid topic name.
  return parse_topic_name("/" + name + "/t").has_value();
}

std::optional<std::string> normalise_validation_policy(std::string policy) {
  std::transform(policy.begin(), policy.end(), policy.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (policy.empty()) return std::string("none");
  if (policy == "none" || policy == "warn" || policy == "enforce") return policy;
  return std::nullopt;
}

}  // namespace

BrokerCore::BrokerCore(const BrokerOptions& options, TimerQueue& timers, ChangeSignal& signal)
    : options_(options),
      timers_(timers),
      signal_(signal),
      schemas_(options.data_dir ? std::optional(*options.data_dir / "schemas.json") : std::nullopt),
      random_(std::random_device{}()) {
  if (options_.max_unacked_messages == 0) {
    throw std::invalid_argument("max_unacked_messages must be at least 1");
  }
  subscription_env_.policy =
      DeliveryPolicy{options_.max_unacked_messages,   options_.ack_timeout,
                     options_.max_redelivery_count,   options_.redelivery_backoff_initial,
                     options_.redelivery_backoff_max, options_.poison_policy};
  if (options_.cursor_persist_interval.count() < 0) {
    throw std::invalid_argument("cursor_persist_interval must not be negative");
  }
  if (options_.cluster_like && !options_.data_dir) {
    throw std::invalid_argument("cluster_like needs a data_dir (it is about restarts)");
  }
  subscription_env_.fidelity = options_.dispatch_fidelity;
  subscription_env_.cursor_persist_interval = options_.cursor_persist_interval;
  subscription_env_.reorder_every = options_.reorder_every;
  subscription_env_.timers = &timers_;
  subscription_env_.signal = &signal_;
  subscription_env_.publish_dead_letter = [this](danube::StreamMessage message) {
    publish_dead_letter(std::move(message));
  };
  for (const auto& name : options_.namespaces) {
    if (!is_valid_namespace_name(name)) {
      throw std::invalid_argument("invalid namespace name '" + name + "'");
    }
    namespaces_.insert(name);
  }
  if (options_.data_dir) {
    std::filesystem::create_directories(*options_.data_dir / "topics");
    load_topics();
  }
  if (options_.poison_policy == PoisonPolicy::dead_letter) {
    std::string why;
    const auto parsed = parse_topic_name(options_.dead_letter_topic, &why);
    if (!parsed) {
      throw std::invalid_argument("invalid dead_letter_topic '" + options_.dead_letter_topic +
                                  "': " + why);
    }
    if (!namespace_exists(parsed->namespace_name)) {
      throw std::invalid_argument("dead_letter_topic '" + options_.dead_letter_topic +
                                  "' is in unknown namespace '" + parsed->namespace_name + "'");
    }
    std::shared_ptr<Topic> topic;
    const auto status = create_topic_if_absent(options_.dead_letter_topic, true, "", topic);
    if (!status.ok()) throw std::invalid_argument(status.error_message());
  }
}

std::shared_ptr<Topic> BrokerCore::find_topic(const std::string& name) const {
  return topics_.find(name).value_or(nullptr);
}

bool BrokerCore::namespace_exists(const std::string& name) const {
  std::shared_lock lock(namespaces_mutex_);
  return namespaces_.count(name) > 0;
}

std::optional<std::filesystem::path> BrokerCore::topic_dir(const std::string& name) const {
  if (!options_.data_dir) return std::nullopt;
  const auto parsed = parse_topic_name(name);
  return *options_.data_dir / "topics" / parsed->namespace_name / parsed->topic;
}

std::shared_ptr<Topic> BrokerCore::make_topic(const std::string& name, bool reliable,
                                              TopicSchemaConfig schema, std::uint64_t created_at_ms,
                                              std::uint64_t keep_from) {
  Topic::Setup setup;
  setup.name = name;
  setup.reliable = reliable;
  setup.dir = topic_dir(name);
  setup.schema = std::move(schema);
  setup.created_at_ms = created_at_ms;
  setup.env = subscription_env_;
  if (reliable) {
    MessageLog::Options log_options;
    if (setup.dir) log_options.file = *setup.dir / "log";
    log_options.fsync = options_.fsync;
    log_options.max_retained_bytes = options_.max_topic_backlog_bytes;
    log_options.restart_offsets = options_.cluster_like;
    if (setup.dir) std::filesystem::create_directories(*setup.dir);
    setup.log = MessageLog::open(std::move(log_options), keep_from);
  }
  return std::make_shared<Topic>(std::move(setup));
}

Status BrokerCore::create_topic_if_absent(const std::string& name, bool reliable,
                                          const std::string& schema_subject,
                                          std::shared_ptr<Topic>& topic) {
  std::lock_guard lock(creation_mutex_);
  topic = find_topic(name);
  if (topic) return Status::OK;
  const std::string base = base_topic_name(name);
  bool conflict = false;
  if (base != name) {
    conflict = topics_.contains(base);
  } else {
    topics_.for_each([&](const std::string& existing, const auto&) {
      conflict = conflict || is_partition_of(existing, name);
    });
  }
  if (conflict) {
    return Status(StatusCode::ALREADY_EXISTS,
                  "topic '" + name +
                      "' conflicts with an existing topic of the same base name: partitioned and "
                      "non-partitioned topics cannot coexist");
  }
  TopicSchemaConfig schema;
  schema.subject = schema_subject;
  try {
    topic = make_topic(name, reliable, schema, now_ms(), 0);
    topic->save_meta();
  } catch (const std::exception& error) {
    spdlog::error("event=topic_create_failed topic={} error=\"{}\"", name, error.what());
    return Status(StatusCode::INTERNAL, "cannot create topic '" + name + "': " + error.what());
  }
  topics_.insert(name, topic);
  spdlog::info("event=topic_created topic={} reliable={}", name, reliable);
  signal_.notify();
  return Status::OK;
}

void BrokerCore::load_topics() {
  const auto root = *options_.data_dir / "topics";
  for (const auto& ns_entry : std::filesystem::directory_iterator(root)) {
    if (!ns_entry.is_directory()) continue;
    for (const auto& topic_entry : std::filesystem::directory_iterator(ns_entry.path())) {
      if (!topic_entry.is_directory()) continue;
      const auto meta_file = topic_entry.path() / "meta.json";
      const auto meta_text = read_whole_file(meta_file);
      if (!meta_text) continue;  // a directory left by a creation that did not finish
      const auto meta = nlohmann::json::parse(*meta_text, nullptr, false);
      if (meta.is_discarded() || !meta.is_object()) {
        throw std::runtime_error("topic metadata '" + meta_file.string() + "' is not valid JSON");
      }
      try {
        const auto name = meta.at("name").get<std::string>();
        const bool reliable = meta.at("reliable").get<bool>();
        TopicSchemaConfig schema;
        schema.subject = meta.value("schema_subject", "");
        schema.validation_policy = meta.value("validation_policy", "none");
        schema.payload_validation = meta.value("payload_validation", false);
        struct Saved {
          std::string name;
          SubscriptionType type;
          std::uint64_t cursor;
        };
        std::vector<Saved> saved;
        std::uint64_t keep_from = std::numeric_limits<std::uint64_t>::max();
        if (reliable) {
          const auto subs_file = topic_entry.path() / "subscriptions.json";
          if (const auto text = read_whole_file(subs_file)) {
            const auto subs = nlohmann::json::parse(*text, nullptr, false);
            if (subs.is_discarded()) {
              throw std::runtime_error("subscription cursors '" + subs_file.string() +
                                       "' are not valid JSON");
            }
            for (const auto& entry : subs.at("subscriptions")) {
              const int type = entry.at("type").get<int>();
              if (type < 0 || type > 3) throw std::runtime_error("bad subscription type");
              saved.push_back(Saved{entry.at("name").get<std::string>(),
                                    static_cast<SubscriptionType>(type),
                                    entry.at("cursor").get<std::uint64_t>()});
              keep_from = std::min(keep_from, saved.back().cursor);
            }
          }
        }
        auto topic =
            make_topic(name, reliable, schema, meta.value("created_at_ms", now_ms()), keep_from);
        for (const auto& sub : saved)
          topic->restore_subscription(sub.name, sub.type, sub.cursor);
        const auto parsed = parse_topic_name(name);
        if (!parsed) throw std::runtime_error("bad topic name '" + name + "'");
        namespaces_.insert(parsed->namespace_name);
        topics_.insert(name, std::move(topic));
        spdlog::info("event=topic_recovered topic={} reliable={} subscriptions={}", name, reliable,
                     saved.size());
      } catch (const nlohmann::json::exception& error) {
        throw std::runtime_error("topic metadata under '" + topic_entry.path().string() +
                                 "' is malformed: " + error.what());
      }
    }
  }
}

std::uint64_t BrokerCore::random_id(const std::function<bool(std::uint64_t)>& taken) {
  std::lock_guard lock(random_mutex_);
  for (;;) {
    const std::uint64_t id = random_();
    if (id != 0 && !taken(id)) return id;
  }
}

Status BrokerCore::topic_lookup(const danube::TopicLookupRequest& request,
                                danube::TopicLookupResponse* response) const {
  std::string why;
  if (!parse_topic_name(request.topic(), &why)) return invalid_topic(request.topic(), why);
  if (!find_topic(request.topic())) {
    return Status(StatusCode::NOT_FOUND, "topic '" + request.topic() + "' not found");
  }
  response->set_request_id(request.request_id());
  response->set_response_type(danube::TopicLookupResponse::Connect);
  response->set_broker_url(service_url_);
  response->set_connect_url(service_url_);
  response->set_proxy(false);
  return Status::OK;
}

Status BrokerCore::topic_partitions(const danube::TopicLookupRequest& request,
                                    danube::TopicPartitionsResponse* response) const {
  std::string why;
  if (!parse_topic_name(request.topic(), &why)) return invalid_topic(request.topic(), why);
  response->set_request_id(request.request_id());
  if (find_topic(request.topic())) {
    response->add_partitions(request.topic());
    return Status::OK;
  }
  std::vector<std::string> partitions;
  topics_.for_each([&](const std::string& name, const auto&) {
    if (is_partition_of(name, request.topic())) partitions.push_back(name);
  });
  std::sort(partitions.begin(), partitions.end());  // lexicographic, as Danube: -part-10 < -part-2
  for (auto& name : partitions)
    response->add_partitions(std::move(name));
  return Status::OK;
}

Status BrokerCore::create_producer(const danube::ProducerRequest& request,
                                   danube::ProducerResponse* response) {
  std::string why;
  const auto parsed = parse_topic_name(request.topic_name(), &why);
  if (!parsed) return invalid_topic(request.topic_name(), why);
  if (request.producer_name().empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "producer_name must not be empty");
  }
  const int strategy = request.dispatch_strategy();
  if (strategy != danube::NonReliable && strategy != danube::Reliable) {
    return Status(StatusCode::INVALID_ARGUMENT,
                  "invalid dispatch_strategy " + std::to_string(strategy));
  }
  const bool reliable = strategy == danube::Reliable;
  const std::string subject = request.has_schema_ref() ? request.schema_ref().subject() : "";

  auto topic = find_topic(request.topic_name());
  if (!topic) {
    if (!options_.auto_create_topics) {
      return Status(StatusCode::NOT_FOUND,
                    "topic '" + request.topic_name() + "' not found and auto-creation is disabled");
    }
    if (!namespace_exists(parsed->namespace_name)) {
      return Status(StatusCode::UNAVAILABLE,
                    "Unable to find the namespace '" + parsed->namespace_name + "'");
    }
    if (auto status = create_topic_if_absent(request.topic_name(), reliable, subject, topic);
        !status.ok()) {
      return status;
    }
  }
  if (topic->reliable() != reliable) {
    return Status(StatusCode::FAILED_PRECONDITION,
                  "Producer requested dispatch strategy does not match topic strategy");
  }
  if (!subject.empty()) {
    auto config = topic->schema_config();
    if (config.subject.empty()) {
      config.subject = subject;
      topic->set_schema_config(std::move(config));
    } else if (config.subject != subject) {
      return Status(StatusCode::FAILED_PRECONDITION,
                    "topic '" + request.topic_name() + "' uses schema subject '" + config.subject +
                        "', the producer asked for '" + subject + "'");
    }
  }
  const std::uint64_t id = topic->attach_producer(request.producer_name(), [&] {
    const std::uint64_t fresh =
        random_id([this](std::uint64_t candidate) { return producers_.contains(candidate); });
    producers_.insert(fresh, ProducerEntry{topic, request.producer_name()});
    spdlog::info("event=producer_created topic={} producer={} producer_id={}", request.topic_name(),
                 request.producer_name(), fresh);
    return fresh;
  });
  response->set_request_id(request.request_id());
  response->set_producer_id(id);
  response->set_producer_name(request.producer_name());
  signal_.notify();
  return Status::OK;
}

std::string BrokerCore::schema_violation(const TopicSchemaConfig& config,
                                         const danube::StreamMessage& message) const {
  if (!message.has_schema_id()) return "the message carries no schema_id";
  const auto described = schemas_.describe_id(message.schema_id());
  if (!described || described->subject != config.subject) {
    return "schema_id " + std::to_string(message.schema_id()) + " does not belong to subject '" +
           config.subject + "'";
  }
  if (config.payload_validation && described->latest_type == "json_schema") {
    // A deeply nested payload costs memory even where nothing recurses: refuse it unread.
    if (json_nesting_exceeds_limit(message.payload())) {
      return "the payload has " + json_nesting_error();
    }
    if (nlohmann::json::parse(message.payload(), nullptr, false).is_discarded()) {
      return "the payload is not valid JSON";
    }
  }
  return {};
}

Status BrokerCore::send_message(const danube::StreamMessage& message,
                                danube::MessageResponse* response) {
  const std::uint64_t producer_id = message.msg_id().producer_id();
  const auto producer = producers_.find(producer_id);
  if (!producer) {
    return Status(StatusCode::NOT_FOUND, "producer " + std::to_string(producer_id) + " not found");
  }
  if (message.payload().size() > options_.max_message_size) {
    return Status(StatusCode::INVALID_ARGUMENT, "message payload of " +
                                                    std::to_string(message.payload().size()) +
                                                    " bytes exceeds max_message_size " +
                                                    std::to_string(options_.max_message_size));
  }
  const auto& topic = producer->topic;
  if (message.msg_id().topic_name() != topic->name()) {
    return Status(StatusCode::PERMISSION_DENIED,
                  "Unable to publish the message: producer " + std::to_string(producer_id) +
                      " is attached to '" + topic->name() + "', not to '" +
                      message.msg_id().topic_name() + "'");
  }
  const auto schema = topic->schema_config();
  if (schema.validation_policy != "none" && !schema.subject.empty()) {
    if (const auto violation = schema_violation(schema, message); !violation.empty()) {
      if (schema.validation_policy == "enforce") {
        return Status(StatusCode::PERMISSION_DENIED,
                      "Unable to publish the message: schema validation failed: " + violation);
      }
      spdlog::warn("event=schema_validation_warning topic={} producer_id={} reason=\"{}\"",
                   topic->name(), producer_id, violation);
    }
  }
  const auto result = topic->publish(message);
  if (!result.ok) {
    if (result.backlog_full) {
      return Status(StatusCode::RESOURCE_EXHAUSTED,
                    "topic '" + topic->name() + "' backlog limit reached; retry later");
    }
    return Status(StatusCode::PERMISSION_DENIED, "Unable to publish the message: " + result.error);
  }
  response->set_request_id(message.request_id());
  signal_.notify();
  return Status::OK;
}

Status BrokerCore::subscribe(const danube::ConsumerRequest& request,
                             danube::ConsumerResponse* response) {
  std::string why;
  if (!parse_topic_name(request.topic_name(), &why))
    return invalid_topic(request.topic_name(), why);
  if (request.subscription().empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "subscription must not be empty");
  }
  if (request.consumer_name().empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "consumer_name must not be empty");
  }
  const int type = request.subscription_type();
  if (type < 0 || type > 3) {
    return Status(StatusCode::INVALID_ARGUMENT,
                  "invalid subscription_type " + std::to_string(type));
  }
  const auto topic = find_topic(request.topic_name());
  if (!topic) {
    return Status(StatusCode::NOT_FOUND, "topic '" + request.topic_name() + "' not found");
  }
  const auto subscription = topic->get_or_create_subscription(request.subscription(),
                                                              static_cast<SubscriptionType>(type));
  std::shared_ptr<ConsumerInfo> consumer;
  std::vector<std::uint64_t> replaced;
  const auto status = subscription->add_consumer(
      request.consumer_name(),
      std::vector<std::string>(request.key_filters().begin(), request.key_filters().end()),
      [this] {
        return random_id(
            [this](std::uint64_t candidate) { return consumers_.contains(candidate); });
      },
      consumer, replaced);
  for (const auto id : replaced)
    consumers_.erase(id);
  if (!status.ok()) return status;
  if (consumers_.insert(consumer->id, consumer)) {
    spdlog::info("event=consumer_created topic={} subscription={} consumer={} consumer_id={}",
                 request.topic_name(), request.subscription(), request.consumer_name(),
                 consumer->id);
  }
  response->set_request_id(request.request_id());
  response->set_consumer_id(consumer->id);
  response->set_consumer_name(consumer->name);
  signal_.notify();
  return Status::OK;
}

std::optional<BrokerCore::StreamTarget> BrokerCore::stream_target(std::uint64_t consumer_id) const {
  const auto consumer = consumers_.find(consumer_id);
  if (!consumer) return std::nullopt;
  auto subscription = (*consumer)->subscription.lock();
  if (!subscription) return std::nullopt;
  const auto topic = find_topic((*consumer)->topic);
  if (!topic) return std::nullopt;
  return StreamTarget{std::move(subscription), topic->stats(), topic->reliable()};
}

Status BrokerCore::find_acked_subscription(const std::string& topic_name,
                                           const std::string& subscription_name,
                                           std::string_view verb, std::shared_ptr<Topic>* topic,
                                           std::shared_ptr<Subscription>* subscription) const {
  *topic = find_topic(topic_name);
  if (!*topic) {
    // Danube answers INTERNAL here (protocol.md 2.7), and so does danube_0_15 mode; lossless
    // mode answers NOT_FOUND, as every other rpc of ours does for an unknown topic, which tells
    // a client that retrying cannot help.
    const auto code = options_.dispatch_fidelity == DispatchFidelity::danube_0_15
                          ? StatusCode::INTERNAL
                          : StatusCode::NOT_FOUND;
    return Status(code, "topic '" + topic_name + "' not found for " + std::string(verb));
  }
  *subscription = (*topic)->find_subscription(subscription_name);
  if (!*subscription) {
    return Status(StatusCode::INTERNAL, "subscription '" + subscription_name +
                                            "' not found on topic '" + topic_name + "'");
  }
  return Status::OK;
}

Status BrokerCore::ack(const danube::AckRequest& request, danube::AckResponse* response) {
  std::shared_ptr<Topic> topic;
  std::shared_ptr<Subscription> subscription;
  const auto found = find_acked_subscription(
      request.msg_id().topic_name(), request.subscription_name(), "ack", &topic, &subscription);
  if (!found.ok()) return found;
  // Non-reliable dispatchers ignore acks, as Danube's do.
  if (topic->reliable() && subscription->ack(request.msg_id().topic_offset())) topic->trim_log();
  response->set_request_id(request.request_id());
  return Status::OK;
}

Status BrokerCore::nack(const danube::NackRequest& request, danube::NackResponse* response) {
  std::shared_ptr<Topic> topic;
  std::shared_ptr<Subscription> subscription;
  const auto found = find_acked_subscription(
      request.msg_id().topic_name(), request.subscription_name(), "nack", &topic, &subscription);
  if (!found.ok()) return found;
  if (topic->reliable()) {
    subscription->nack(request.msg_id().topic_offset(),
                       request.has_delay_ms() ? std::optional(request.delay_ms()) : std::nullopt,
                       request.has_reason() ? request.reason() : "nacked by the consumer");
  }
  response->set_request_id(request.request_id());
  return Status::OK;
}

Status BrokerCore::health_check(const danube::HealthCheckRequest& request,
                                danube::HealthCheckResponse* response) const {
  bool alive = false;
  switch (static_cast<int>(request.client())) {
    case danube::HealthCheckRequest::Producer:
      alive = producers_.contains(request.id());
      break;
    case danube::HealthCheckRequest::Consumer: {
      const auto consumer = consumers_.find(request.id());
      alive = consumer && (*consumer)->active.load();
      break;
    }
    default:
      return Status(StatusCode::INVALID_ARGUMENT,
                    "invalid client type " + std::to_string(static_cast<int>(request.client())));
  }
  response->set_status(alive ? danube::HealthCheckResponse::OK
                             : danube::HealthCheckResponse::CLOSE);
  return Status::OK;
}

Status BrokerCore::list_segment_descriptors(
    const danube::ListSegmentDescriptorsRequest& request,
    danube::ListSegmentDescriptorsResponse* response) const {
  const auto topic = find_topic(request.topic());
  if (!topic) return Status(StatusCode::NOT_FOUND, "topic '" + request.topic() + "' not found");
  if (!topic->reliable()) return Status::OK;  // non-reliable topics store nothing
  // Log positions, which are the offsets unless a cluster-like restart restarted them.
  const auto stats = topic->log()->stats();
  // after_offset 0 means "from the start", since offset 0 is a valid first entry.
  const bool empty = stats.end_position == 0;
  const bool nothing_after =
      request.after_offset() != 0 && stats.end_position - 1 <= request.after_offset();
  if (empty || nothing_after) return Status::OK;
  // The whole log is one segment; its etag changes whenever the segment grows.
  auto* segment = response->add_segments();
  segment->set_segment_id("segment-" + std::to_string(stats.first_position));
  segment->set_start_offset(stats.first_position);
  segment->set_end_offset(stats.end_position - 1);
  segment->set_size(stats.bytes);
  segment->set_etag(std::to_string(stats.first_position) + "-" +
                    std::to_string(stats.end_position) + "-" + std::to_string(stats.bytes));
  segment->set_created_at(topic->created_at_ms() / 1000);
  return Status::OK;
}

Status BrokerCore::configure_topic_schema(const danube_schema::ConfigureTopicSchemaRequest& request,
                                          danube_schema::ConfigureTopicSchemaResponse* response) {
  const auto topic = find_topic(request.topic_name());
  if (!topic)
    return Status(StatusCode::NOT_FOUND, "topic '" + request.topic_name() + "' not found");
  const auto policy = normalise_validation_policy(request.validation_policy());
  if (!policy) {
    return Status(StatusCode::INVALID_ARGUMENT, "invalid validation_policy '" +
                                                    request.validation_policy() +
                                                    "'; expected none, warn or enforce");
  }
  if (!schemas_.has_subject(request.schema_subject())) {
    return Status(StatusCode::NOT_FOUND,
                  "schema subject '" + request.schema_subject() + "' not found");
  }
  topic->set_schema_config(
      TopicSchemaConfig{request.schema_subject(), *policy, request.enable_payload_validation()});
  response->set_success(true);
  response->set_message("topic '" + request.topic_name() + "' now uses subject '" +
                        request.schema_subject() + "' with policy " + *policy);
  return Status::OK;
}

Status BrokerCore::get_topic_schema_config(
    const danube_schema::GetTopicSchemaConfigRequest& request,
    danube_schema::GetTopicSchemaConfigResponse* response) const {
  const auto topic = find_topic(request.topic_name());
  if (!topic)
    return Status(StatusCode::NOT_FOUND, "topic '" + request.topic_name() + "' not found");
  const auto config = topic->schema_config();
  response->set_schema_subject(config.subject);
  response->set_validation_policy(config.validation_policy);
  response->set_enable_payload_validation(config.payload_validation);
  response->set_schema_id(schemas_.schema_id_of(config.subject).value_or(0));
  return Status::OK;
}

Status BrokerCore::update_topic_validation_policy(
    const danube_schema::UpdateTopicValidationPolicyRequest& request,
    danube_schema::UpdateTopicValidationPolicyResponse* response) {
  const auto topic = find_topic(request.topic_name());
  if (!topic)
    return Status(StatusCode::NOT_FOUND, "topic '" + request.topic_name() + "' not found");
  const auto policy = normalise_validation_policy(request.validation_policy());
  if (!policy) {
    return Status(StatusCode::INVALID_ARGUMENT, "invalid validation_policy '" +
                                                    request.validation_policy() +
                                                    "'; expected none, warn or enforce");
  }
  auto config = topic->schema_config();
  config.validation_policy = *policy;
  config.payload_validation = request.enable_payload_validation();
  topic->set_schema_config(std::move(config));
  response->set_success(true);
  response->set_message("validation policy of '" + request.topic_name() + "' set to " + *policy);
  return Status::OK;
}

void BrokerCore::create_namespace(const std::string& name) {
  if (!is_valid_namespace_name(name)) {
    throw std::invalid_argument("invalid namespace name '" + name + "'");
  }
  std::unique_lock lock(namespaces_mutex_);
  namespaces_.insert(name);
}

void BrokerCore::create_topic(const std::string& name, bool reliable, std::size_t partitions) {
  std::string why;
  const auto parsed = parse_topic_name(name, &why);
  if (!parsed) throw std::invalid_argument("invalid topic name '" + name + "': " + why);
  if (!namespace_exists(parsed->namespace_name)) {
    throw std::invalid_argument("namespace '" + parsed->namespace_name + "' does not exist");
  }
  std::vector<std::string> names;
  if (partitions == 0) {
    names.push_back(name);
  } else {
    for (std::size_t i = 0; i < partitions; ++i)
      names.push_back(partition_topic_name(name, i));
  }
  for (const auto& topic_name : names) {
    std::shared_ptr<Topic> topic;
    const auto status = create_topic_if_absent(topic_name, reliable, "", topic);
    if (!status.ok()) throw std::runtime_error(status.error_message());
    if (topic->reliable() != reliable) {
      throw std::runtime_error("topic '" + topic_name +
                               "' exists with the other dispatch strategy");
    }
  }
}

std::optional<TopicCounters> BrokerCore::counters(const std::string& topic) const {
  const auto found = find_topic(topic);
  if (!found) return std::nullopt;
  return found->stats()->read();
}

std::vector<std::string> BrokerCore::topic_names() const {
  std::vector<std::string> names;
  topics_.for_each([&](const std::string& name, const auto&) { names.push_back(name); });
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<SubscriptionSnapshot> BrokerCore::subscription(const std::string& topic,
                                                             const std::string& name) const {
  const auto found = find_topic(topic);
  if (!found) return std::nullopt;
  const auto subscription = found->find_subscription(name);
  if (!subscription) return std::nullopt;
  return subscription->snapshot();
}

void BrokerCore::flush(bool shutting_down) {
  const bool durable = options_.fsync != FsyncPolicy::never;
  topics_.for_each([&](const std::string&, const std::shared_ptr<Topic>& topic) {
    topic->flush(durable, shutting_down);
  });
}

void BrokerCore::end_sessions() {
  producers_.clear();
  consumers_.clear();
  topics_.for_each(
      [](const std::string&, const std::shared_ptr<Topic>& topic) { topic->end_sessions(); });
}

void BrokerCore::publish_dead_letter(danube::StreamMessage message) {
  const auto topic = find_topic(options_.dead_letter_topic);
  if (!topic) {
    spdlog::error("event=dead_letter_lost topic={} reason=\"dead-letter topic missing\"",
                  options_.dead_letter_topic);
    return;
  }
  message.mutable_msg_id()->set_topic_name(options_.dead_letter_topic);
  const auto result = topic->publish(std::move(message));
  if (!result.ok) {
    spdlog::error("event=dead_letter_lost topic={} reason=\"{}\"", options_.dead_letter_topic,
                  result.error);
  }
}

}  // namespace danube::testkit::internal
