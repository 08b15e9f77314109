#include "client_services.hpp"

#include "danube/DanubeApi.grpc.pb.h"
#include "danube/SchemaRegistry.grpc.pb.h"

namespace danube::testkit::internal {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using grpc::Status;

// Danube's non-reliable per-consumer channel holds 4 messages.
constexpr std::size_t kNonReliableQueue = 4;

class ProducerServiceImpl final : public danube::ProducerService::CallbackService {
 public:
  explicit ProducerServiceImpl(ServiceDeps deps) : deps_(deps) {}

  ServerUnaryReactor* CreateProducer(CallbackServerContext* context,
                                     const danube::ProducerRequest* request,
                                     danube::ProducerResponse* response) override {
    return deps_.gate.unary(context, Rpc::create_producer,
                            [=, this] { return deps_.core.create_producer(*request, response); });
  }

  ServerUnaryReactor* SendMessage(CallbackServerContext* context,
                                  const danube::StreamMessage* request,
                                  danube::MessageResponse* response) override {
    return deps_.gate.unary(context, Rpc::send_message,
                            [=, this] { return deps_.core.send_message(*request, response); });
  }

 private:
  ServiceDeps deps_;
};

class ConsumerServiceImpl final : public danube::ConsumerService::CallbackService {
 public:
  explicit ConsumerServiceImpl(ServiceDeps deps) : deps_(deps) {}

  ServerUnaryReactor* Subscribe(CallbackServerContext* context,
                                const danube::ConsumerRequest* request,
                                danube::ConsumerResponse* response) override {
    return deps_.gate.unary(context, Rpc::subscribe,
                            [=, this] { return deps_.core.subscribe(*request, response); });
  }

  grpc::ServerWriteReactor<danube::StreamMessage>* ReceiveMessages(
      CallbackServerContext* context, const danube::ReceiveRequest* request) override {
    const auto rejected = deps_.gate.admit(context, Rpc::receive_messages);
    const std::uint64_t consumer_id = request->consumer_id();
    auto target = rejected ? std::nullopt : deps_.core.stream_target(consumer_id);

    ReceiveStream::Delivered on_delivered;
    ReceiveStream::Closed on_closed;
    std::weak_ptr<Subscription> subscription;
    if (target) {
      subscription = target->subscription;
      on_delivered = [stats = target->stats, &signal = deps_.signal] {
        ++stats->delivered;
        signal.notify();
      };
    }
    on_closed = [subscription, consumer_id, &streams = deps_.streams](ReceiveStream& stream) {
      if (const auto owner = subscription.lock()) owner->stream_closed(consumer_id, stream);
      streams.remove(stream);
    };
    const std::size_t capacity = target && !target->reliable ? kNonReliableQueue : 0;
    auto stream =
        std::make_shared<ReceiveStream>(capacity, std::move(on_delivered), std::move(on_closed));
    deps_.streams.add(stream);

    if (rejected) {
      stream->finish(*rejected);
    } else if (!target) {
      stream->finish(Status(grpc::StatusCode::NOT_FOUND,
                            "consumer " + std::to_string(consumer_id) + " not found"));
    } else if (const auto delay = deps_.gate.latency(Rpc::receive_messages); delay.count() > 0) {
      deps_.timers.schedule_after(delay, [weak = std::weak_ptr(stream), subscription, consumer_id] {
        attach(weak.lock(), subscription.lock(), consumer_id);
      });
    } else {
      attach(stream, target->subscription, consumer_id);
    }
    return stream.get();
  }

  ServerUnaryReactor* Ack(CallbackServerContext* context, const danube::AckRequest* request,
                          danube::AckResponse* response) override {
    return deps_.gate.unary(context, Rpc::ack,
                            [=, this] { return deps_.core.ack(*request, response); });
  }

  ServerUnaryReactor* Nack(CallbackServerContext* context, const danube::NackRequest* request,
                           danube::NackResponse* response) override {
    return deps_.gate.unary(context, Rpc::nack,
                            [=, this] { return deps_.core.nack(*request, response); });
  }

 private:
  static void attach(const std::shared_ptr<ReceiveStream>& stream,
                     const std::shared_ptr<Subscription>& subscription, std::uint64_t consumer_id) {
    if (!stream) return;
    if (!subscription || !subscription->attach_stream(consumer_id, stream)) {
      stream->finish(Status(grpc::StatusCode::NOT_FOUND,
                            "consumer " + std::to_string(consumer_id) + " not found"));
    }
  }

  ServiceDeps deps_;
};

class DiscoveryImpl final : public danube::Discovery::CallbackService {
 public:
  explicit DiscoveryImpl(ServiceDeps deps) : deps_(deps) {}

  ServerUnaryReactor* TopicLookup(CallbackServerContext* context,
                                  const danube::TopicLookupRequest* request,
                                  danube::TopicLookupResponse* response) override {
    return deps_.gate.unary(context, Rpc::topic_lookup,
                            [=, this] { return deps_.core.topic_lookup(*request, response); });
  }

  ServerUnaryReactor* TopicPartitions(CallbackServerContext* context,
                                      const danube::TopicLookupRequest* request,
                                      danube::TopicPartitionsResponse* response) override {
    return deps_.gate.unary(context, Rpc::topic_partitions,
                            [=, this] { return deps_.core.topic_partitions(*request, response); });
  }

 private:
  ServiceDeps deps_;
};

class HealthCheckImpl final : public danube::HealthCheck::CallbackService {
 public:
  explicit HealthCheckImpl(ServiceDeps deps) : deps_(deps) {}

  ServerUnaryReactor* HealthCheck(CallbackServerContext* context,
                                  const danube::HealthCheckRequest* request,
                                  danube::HealthCheckResponse* response) override {
    return deps_.gate.unary(context, Rpc::health_check,
                            [=, this] { return deps_.core.health_check(*request, response); });
  }

 private:
  ServiceDeps deps_;
};

class StorageServiceImpl final : public danube::StorageService::CallbackService {
 public:
  explicit StorageServiceImpl(ServiceDeps deps) : deps_(deps) {}

  ServerUnaryReactor* ListSegmentDescriptors(
      CallbackServerContext* context, const danube::ListSegmentDescriptorsRequest* request,
      danube::ListSegmentDescriptorsResponse* response) override {
    return deps_.gate.unary(context, std::nullopt, [=, this] {
      return deps_.core.list_segment_descriptors(*request, response);
    });
  }

 private:
  ServiceDeps deps_;
};

class SchemaRegistryImpl final : public danube_schema::SchemaRegistry::CallbackService {
 public:
  explicit SchemaRegistryImpl(ServiceDeps deps) : deps_(deps) {}

  ServerUnaryReactor* RegisterSchema(CallbackServerContext* context,
                                     const danube_schema::RegisterSchemaRequest* request,
                                     danube_schema::RegisterSchemaResponse* response) override {
    return call(context, [=, this] { return registry().register_schema(*request, response); });
  }
  ServerUnaryReactor* GetSchema(CallbackServerContext* context,
                                const danube_schema::GetSchemaRequest* request,
                                danube_schema::GetSchemaResponse* response) override {
    return call(context, [=, this] { return registry().get_schema(*request, response); });
  }
  ServerUnaryReactor* GetLatestSchema(CallbackServerContext* context,
                                      const danube_schema::GetLatestSchemaRequest* request,
                                      danube_schema::GetSchemaResponse* response) override {
    return call(context, [=, this] { return registry().get_latest_schema(*request, response); });
  }
  ServerUnaryReactor* ListVersions(CallbackServerContext* context,
                                   const danube_schema::ListVersionsRequest* request,
                                   danube_schema::ListVersionsResponse* response) override {
    return call(context, [=, this] { return registry().list_versions(*request, response); });
  }
  ServerUnaryReactor* CheckCompatibility(
      CallbackServerContext* context, const danube_schema::CheckCompatibilityRequest* request,
      danube_schema::CheckCompatibilityResponse* response) override {
    return call(context, [=, this] { return registry().check_compatibility(*request, response); });
  }
  ServerUnaryReactor* DeleteSchemaVersion(
      CallbackServerContext* context, const danube_schema::DeleteSchemaVersionRequest* request,
      danube_schema::DeleteSchemaVersionResponse* response) override {
    return call(context,
                [=, this] { return registry().delete_schema_version(*request, response); });
  }
  ServerUnaryReactor* SetCompatibilityMode(
      CallbackServerContext* context, const danube_schema::SetCompatibilityModeRequest* request,
      danube_schema::SetCompatibilityModeResponse* response) override {
    return call(context,
                [=, this] { return registry().set_compatibility_mode(*request, response); });
  }
  ServerUnaryReactor* ConfigureTopicSchema(
      CallbackServerContext* context, const danube_schema::ConfigureTopicSchemaRequest* request,
      danube_schema::ConfigureTopicSchemaResponse* response) override {
    return call(context,
                [=, this] { return deps_.core.configure_topic_schema(*request, response); });
  }
  ServerUnaryReactor* UpdateTopicValidationPolicy(
      CallbackServerContext* context,
      const danube_schema::UpdateTopicValidationPolicyRequest* request,
      danube_schema::UpdateTopicValidationPolicyResponse* response) override {
    return call(context, [=, this] {
      return deps_.core.update_topic_validation_policy(*request, response);
    });
  }
  ServerUnaryReactor* GetTopicSchemaConfig(
      CallbackServerContext* context, const danube_schema::GetTopicSchemaConfigRequest* request,
      danube_schema::GetTopicSchemaConfigResponse* response) override {
    return call(context,
                [=, this] { return deps_.core.get_topic_schema_config(*request, response); });
  }
  ServerUnaryReactor* ListSubjects(CallbackServerContext* context,
                                   const danube_schema::ListSubjectsRequest* /*request*/,
                                   danube_schema::ListSubjectsResponse* response) override {
    return call(context, [=, this] { return registry().list_subjects(response); });
  }

 private:
  SchemaRegistry& registry() { return deps_.core.schemas(); }
  ServerUnaryReactor* call(CallbackServerContext* context, std::function<Status()> handler) {
    return deps_.gate.unary(context, Rpc::schema_registry, std::move(handler));
  }

  ServiceDeps deps_;
};

}  // namespace

struct ClientServices::Services {
  explicit Services(ServiceDeps deps)
      : producer(deps),
        consumer(deps),
        discovery(deps),
        health(deps),
        storage(deps),
        schema(deps) {}
  ProducerServiceImpl producer;
  ConsumerServiceImpl consumer;
  DiscoveryImpl discovery;
  HealthCheckImpl health;
  StorageServiceImpl storage;
  SchemaRegistryImpl schema;
};

ClientServices::ClientServices(ServiceDeps deps) : services_(std::make_unique<Services>(deps)) {}

ClientServices::~ClientServices() = default;

std::vector<grpc::Service*> ClientServices::services() const {
  return {&services_->producer, &services_->consumer, &services_->discovery,
          &services_->health,   &services_->storage,  &services_->schema};
}

}  // namespace danube::testkit::internal
