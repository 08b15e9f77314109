#include "broker_test_support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <random>
#include <sstream>

namespace danube::testkit::test {

BrokerOptions fast_options() {
  BrokerOptions options;
  options.ack_timeout = 30s;
  options.redelivery_backoff_initial = 20ms;
  options.redelivery_backoff_max = 200ms;
  options.fsync_interval = 20ms;
  return options;
}

RunningBroker::RunningBroker(BrokerOptions options) : broker(std::move(options)) {
  quiet_logs();
  broker.start();
}

void quiet_logs() {
  // The broker logs every producer and consumer at info; tests keep warnings and errors unless
  // DANUBE_TEST_LOG=info (or debug) asks for more.
  const char* wanted = std::getenv("DANUBE_TEST_LOG");
  spdlog::set_level(wanted != nullptr ? spdlog::level::from_str(wanted) : spdlog::level::warn);
}

Client::Client(const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
               std::string token, std::string tls_target_name)
    : token_(std::move(token)) {
  grpc::ChannelArguments arguments;
  if (!tls_target_name.empty()) arguments.SetSslTargetNameOverride(tls_target_name);
  // Restart tests reconnect the same channel: keep gRPC's reconnect backoff short. (Not
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also uses it as the connect timeout, and a slow
  // sanitizer build then cuts TLS handshakes short.)
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  channel = grpc::CreateCustomChannel(
      address, credentials ? credentials : grpc::InsecureChannelCredentials(), arguments);
  producers = danube::ProducerService::NewStub(channel);
  consumers = danube::ConsumerService::NewStub(channel);
  discovery = danube::Discovery::NewStub(channel);
  health_stub = danube::HealthCheck::NewStub(channel);
  storage = danube::StorageService::NewStub(channel);
  schemas = danube_schema::SchemaRegistry::NewStub(channel);
}

void Client::prepare(grpc::ClientContext& context, std::chrono::milliseconds deadline) const {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
}

grpc::Status Client::create_producer(const std::string& topic, const std::string& name,
                                     bool reliable, danube::ProducerResponse* response,
                                     const std::string& schema_subject) {
  danube::ProducerRequest request;
  request.set_request_id(next_request_id_++);
  request.set_producer_name(name);
  request.set_topic_name(topic);
  request.set_dispatch_strategy(reliable ? danube::Reliable : danube::NonReliable);
  if (!schema_subject.empty()) {
    request.mutable_schema_ref()->set_subject(schema_subject);
    request.mutable_schema_ref()->set_use_latest(true);
  }
  danube::ProducerResponse local;
  grpc::ClientContext context;
  prepare(context);
  return producers->CreateProducer(&context, request, response ? response : &local);
}

std::uint64_t Client::producer(const std::string& topic, const std::string& name, bool reliable) {
  danube::ProducerResponse response;
  const auto status = create_producer(topic, name, reliable, &response);
  BOOST_REQUIRE_MESSAGE(status.ok(), "CreateProducer failed: " << status.error_message());
  return response.producer_id();
}

danube::StreamMessage Client::message(std::uint64_t producer_id, const std::string& topic,
                                      const std::string& payload, std::uint64_t request_id) const {
  danube::StreamMessage message;
  message.set_request_id(request_id);
  message.mutable_msg_id()->set_producer_id(producer_id);
  message.mutable_msg_id()->set_topic_name(topic);
  message.mutable_msg_id()->set_broker_addr("http://127.0.0.1");
  message.set_payload(payload);
  message.set_publish_time(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()));
  message.set_producer_name("test-producer");
  return message;
}

grpc::Status Client::send(const danube::StreamMessage& message, danube::MessageResponse* response) {
  danube::MessageResponse local;
  grpc::ClientContext context;
  prepare(context);
  return producers->SendMessage(&context, message, response ? response : &local);
}

void Client::send_ok(std::uint64_t producer_id, const std::string& topic,
                     const std::string& payload, std::uint64_t request_id) {
  const auto status = send(message(producer_id, topic, payload, request_id));
  BOOST_REQUIRE_MESSAGE(
      status.ok(), "SendMessage failed: " << status.error_code() << " " << status.error_message());
}

grpc::Status Client::subscribe(const std::string& topic, const std::string& consumer_name,
                               const std::string& subscription, SubType type,
                               danube::ConsumerResponse* response,
                               const std::vector<std::string>& key_filters) {
  danube::ConsumerRequest request;
  request.set_request_id(next_request_id_++);
  request.set_topic_name(topic);
  request.set_consumer_name(consumer_name);
  request.set_subscription(subscription);
  request.set_subscription_type(
      static_cast<danube::ConsumerRequest::SubscriptionType>(static_cast<int>(type)));
  for (const auto& filter : key_filters)
    request.add_key_filters(filter);
  danube::ConsumerResponse local;
  grpc::ClientContext context;
  prepare(context);
  return consumers->Subscribe(&context, request, response ? response : &local);
}

std::uint64_t Client::consumer(const std::string& topic, const std::string& consumer_name,
                               const std::string& subscription, SubType type,
                               const std::vector<std::string>& key_filters) {
  danube::ConsumerResponse response;
  const auto status = subscribe(topic, consumer_name, subscription, type, &response, key_filters);
  BOOST_REQUIRE_MESSAGE(status.ok(), "Subscribe failed: " << status.error_message());
  return response.consumer_id();
}

grpc::Status Client::ack(const danube::StreamMessage& message, const std::string& subscription) {
  danube::AckRequest request;
  request.set_request_id(message.request_id());
  *request.mutable_msg_id() = message.msg_id();
  request.set_subscription_name(subscription);
  danube::AckResponse response;
  grpc::ClientContext context;
  prepare(context);
  return consumers->Ack(&context, request, &response);
}

grpc::Status Client::nack(const danube::StreamMessage& message, const std::string& subscription,
                          std::optional<std::uint64_t> delay_ms) {
  danube::NackRequest request;
  request.set_request_id(message.request_id());
  *request.mutable_msg_id() = message.msg_id();
  request.set_subscription_name(subscription);
  if (delay_ms) request.set_delay_ms(*delay_ms);
  request.set_reason("test nack");
  danube::NackResponse response;
  grpc::ClientContext context;
  prepare(context);
  return consumers->Nack(&context, request, &response);
}

grpc::Status Client::lookup(const std::string& topic, danube::TopicLookupResponse* response) {
  danube::TopicLookupRequest request;
  request.set_request_id(next_request_id_++);
  request.set_topic(topic);
  danube::TopicLookupResponse local;
  grpc::ClientContext context;
  prepare(context);
  return discovery->TopicLookup(&context, request, response ? response : &local);
}

grpc::Status Client::partitions(const std::string& topic,
                                danube::TopicPartitionsResponse* response) {
  danube::TopicLookupRequest request;
  request.set_request_id(next_request_id_++);
  request.set_topic(topic);
  grpc::ClientContext context;
  prepare(context);
  return discovery->TopicPartitions(&context, request, response);
}

grpc::Status Client::health(int client_type, std::uint64_t id,
                            danube::HealthCheckResponse* response) {
  danube::HealthCheckRequest request;
  request.set_request_id(next_request_id_++);
  request.set_client(static_cast<danube::HealthCheckRequest::ClientType>(client_type));
  request.set_id(id);
  grpc::ClientContext context;
  prepare(context);
  return health_stub->HealthCheck(&context, request, response);
}

StreamReader::StreamReader(const Client& client, std::uint64_t consumer_id) {
  if (!client.token().empty()) context_.AddMetadata("authorization", "Bearer " + client.token());
  danube::ReceiveRequest request;
  request.set_request_id(1);
  request.set_consumer_id(consumer_id);
  thread_ = std::thread([this, stub = client.consumers.get(), request] {
    auto reader = stub->ReceiveMessages(&context_, request);
    danube::StreamMessage message;
    while (reader->Read(&message)) {
      std::lock_guard lock(mutex_);
      unread_.push_back(message);
      all_.push_back(message);
      changed_.notify_all();
    }
    const auto status = reader->Finish();
    std::lock_guard lock(mutex_);
    status_ = status;
    changed_.notify_all();
  });
}

StreamReader::~StreamReader() {
  context_.TryCancel();
  thread_.join();
}

std::optional<danube::StreamMessage> StreamReader::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !unread_.empty(); })) return std::nullopt;
  auto message = std::move(unread_.front());
  unread_.pop_front();
  return message;
}

std::vector<danube::StreamMessage> StreamReader::take(std::size_t count,
                                                      std::chrono::milliseconds timeout) {
  std::vector<danube::StreamMessage> taken;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (taken.size() < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto message = next(std::max(left, std::chrono::milliseconds(0)));
    if (!message) break;
    taken.push_back(std::move(*message));
  }
  BOOST_REQUIRE_MESSAGE(taken.size() == count,
                        "expected " << count << " messages, got " << taken.size());
  return taken;
}

bool StreamReader::wait_for_total(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return all_.size() >= count; });
}

std::size_t StreamReader::total() const {
  std::lock_guard lock(mutex_);
  return all_.size();
}

std::vector<danube::StreamMessage> StreamReader::all() const {
  std::lock_guard lock(mutex_);
  return all_;
}

std::optional<grpc::Status> StreamReader::wait_finished(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [this] { return status_.has_value(); });
  return status_;
}

bool wait_connected(const EmbeddedBroker& broker, const std::string& topic,
                    const std::string& subscription, std::size_t connected) {
  return broker.wait_until(
      [&] {
        const auto snapshot = broker.subscription(topic, subscription);
        return snapshot && snapshot->connected_consumers == connected;
      },
      kWait);
}

TempDir::TempDir() {
  std::random_device random;
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("danube-broker-test-" + std::to_string(random()));
    if (std::filesystem::create_directory(path_)) return;
  }
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string nested_json_object(std::size_t levels) {
  std::string text;
  text.reserve(levels * 6);
  for (std::size_t i = 1; i < levels; ++i)
    text += "{\"a\":";
  text += "{}";
  text.append(levels - 1, '}');
  return text;
}

grpc::Status register_json_schema(const Client& client, const std::string& subject,
                                  const std::string& definition,
                                  danube_schema::RegisterSchemaResponse* response) {
  danube_schema::RegisterSchemaRequest request;
  request.set_subject(subject);
  request.set_schema_type("json_schema");
  request.set_schema_definition(definition);
  danube_schema::RegisterSchemaResponse ignored;
  grpc::ClientContext context;
  client.prepare(context);
  return client.schemas->RegisterSchema(&context, request, response ? response : &ignored);
}

grpc::Status check_json_schema(const Client& client, const std::string& subject,
                               const std::string& definition,
                               danube_schema::CheckCompatibilityResponse* response) {
  danube_schema::CheckCompatibilityRequest request;
  request.set_subject(subject);
  request.set_schema_type("json_schema");
  request.set_new_schema_definition(definition);
  danube_schema::CheckCompatibilityResponse ignored;
  grpc::ClientContext context;
  client.prepare(context);
  return client.schemas->CheckCompatibility(&context, request, response ? response : &ignored);
}

std::string sha256_hex(const std::string& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::ostringstream hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex << kHex[digest[i] >> 4] << kHex[digest[i] & 0x0F];
  }
  return hex.str();
}

}  // namespace danube::testkit::test
