#pragma once

// Helpers for the broker tests: raw generated gRPC stubs (never our client), a stream reader
// that collects ReceiveMessages on its own thread, temporary directories and HS256 tokens.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "credentials.hpp"
#include "danube/DanubeApi.grpc.pb.h"
#include "danube/SchemaRegistry.grpc.pb.h"
#include "danube/testkit/embedded_broker.hpp"

namespace danube::testkit::test {

using namespace std::chrono_literals;

inline constexpr auto kWait = std::chrono::milliseconds(10000);  // generous: CI machines stall

// Options with short timers so that redelivery tests take milliseconds.
BrokerOptions fast_options();

// Lowers the broker's log level for tests (see the definition).
void quiet_logs();

// A started broker that stops when the test ends.
struct RunningBroker {
  explicit RunningBroker(BrokerOptions options = fast_options());
  EmbeddedBroker broker;
};

enum class SubType { exclusive = 0, shared = 1, failover = 2, key_shared = 3 };

// Stubs for every client service on one channel.
class Client {
 public:
  explicit Client(const std::string& address,
                  std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
                  std::string token = {}, std::string tls_target_name = {});

  // Deadline and, when a token is set, `authorization: Bearer <token>`.
  void prepare(grpc::ClientContext& context, std::chrono::milliseconds deadline = 5s) const;
  const std::string& token() const { return token_; }

  grpc::Status create_producer(const std::string& topic, const std::string& name, bool reliable,
                               danube::ProducerResponse* response = nullptr,
                               const std::string& schema_subject = {});
  std::uint64_t producer(const std::string& topic, const std::string& name, bool reliable);

  danube::StreamMessage message(std::uint64_t producer_id, const std::string& topic,
                                const std::string& payload, std::uint64_t request_id = 0) const;
  grpc::Status send(const danube::StreamMessage& message,
                    danube::MessageResponse* response = nullptr);
  void send_ok(std::uint64_t producer_id, const std::string& topic, const std::string& payload,
               std::uint64_t request_id = 0);

  grpc::Status subscribe(const std::string& topic, const std::string& consumer_name,
                         const std::string& subscription, SubType type,
                         danube::ConsumerResponse* response = nullptr,
                         const std::vector<std::string>& key_filters = {});
  std::uint64_t consumer(const std::string& topic, const std::string& consumer_name,
                         const std::string& subscription, SubType type,
                         const std::vector<std::string>& key_filters = {});

  grpc::Status ack(const danube::StreamMessage& message, const std::string& subscription);
  grpc::Status nack(const danube::StreamMessage& message, const std::string& subscription,
                    std::optional<std::uint64_t> delay_ms = std::nullopt);

  grpc::Status lookup(const std::string& topic, danube::TopicLookupResponse* response = nullptr);
  grpc::Status partitions(const std::string& topic, danube::TopicPartitionsResponse* response);
  grpc::Status health(int client_type, std::uint64_t id, danube::HealthCheckResponse* response);

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<danube::ProducerService::Stub> producers;
  std::unique_ptr<danube::ConsumerService::Stub> consumers;
  std::unique_ptr<danube::Discovery::Stub> discovery;
  std::unique_ptr<danube::HealthCheck::Stub> health_stub;
  std::unique_ptr<danube::StorageService::Stub> storage;
  std::unique_ptr<danube_schema::SchemaRegistry::Stub> schemas;

 private:
  std::string token_;
  std::uint64_t next_request_id_ = 1;
};

// Runs one ReceiveMessages call on its own thread and keeps what arrives.
class StreamReader {
 public:
  StreamReader(const Client& client, std::uint64_t consumer_id);
  ~StreamReader();
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // The next message not yet taken, waiting up to `timeout`.
  std::optional<danube::StreamMessage> next(std::chrono::milliseconds timeout = kWait);
  // Takes exactly `count` messages (fails the test with what arrived when they do not come).
  std::vector<danube::StreamMessage> take(std::size_t count,
                                          std::chrono::milliseconds timeout = kWait);
  bool wait_for_total(std::size_t count, std::chrono::milliseconds timeout = kWait);
  std::size_t total() const;
  std::vector<danube::StreamMessage> all() const;
  // Waits for the call to end and returns its status.
  std::optional<grpc::Status> wait_finished(std::chrono::milliseconds timeout = kWait);
  void cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<danube::StreamMessage> unread_;
  std::vector<danube::StreamMessage> all_;
  std::optional<grpc::Status> status_;
  std::thread thread_;
};

// Waits until the broker shows `connected` consumers with an open stream on the subscription.
bool wait_connected(const EmbeddedBroker& broker, const std::string& topic,
                    const std::string& subscription, std::size_t connected);

// A fresh directory under the system temp dir, removed with its content at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A JSON object nested `levels` deep, {"a":{"a":...{}...}}: six bytes a level, so 70 000 levels
// are about 420 KB, well within gRPC's 4 MB message limit.
std::string nested_json_object(std::size_t levels);

// RegisterSchema and CheckCompatibility of a json_schema definition, each with a fresh context.
grpc::Status register_json_schema(const Client& client, const std::string& subject,
                                  const std::string& definition,
                                  danube_schema::RegisterSchemaResponse* response = nullptr);
grpc::Status check_json_schema(const Client& client, const std::string& subject,
                               const std::string& definition,
                               danube_schema::CheckCompatibilityResponse* response = nullptr);

// JWTs and certificates come from tests/support/credentials.hpp.
using danube::test::base64url;
using danube::test::make_jwt;
using danube::test::valid_claims;
std::string sha256_hex(const std::string& bytes);

}  // namespace danube::testkit::test
