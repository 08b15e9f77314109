// Fuzz target: the embedded broker's request handlers (BrokerCore and its schema registry),
// driven directly, without gRPC or a network.
//
// Input: a danube_fuzz.Script (broker_script.proto) in protobuf wire format; its calls run in
// order on one fresh in-memory BrokerCore. Producer and consumer ids are random 64-bit numbers
// the script cannot know, so an id below 16 in a call stands for one the script created
// (producer or consumer number id % count); other ids pass unchanged.
//
// Properties: handlers return a status, never throw (the two administration calls may throw
// std::exception, as documented); INTERNAL comes only from ack and nack of an unknown
// subscription, as Danube's does.
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <vector>

#include "broker_core.hpp"
#include "broker_script.pb.h"
#include "change_signal.hpp"
#include "fuzz_support.hpp"
#include "timer_queue.hpp"

namespace {

using danube::testkit::internal::BrokerCore;
using danube::testkit::internal::ChangeSignal;
using danube::testkit::internal::TimerQueue;
using danube_fuzz::Call;

constexpr std::uint64_t kIdReferences = 16;
constexpr std::uint32_t kMaxPartitions = 8;

std::uint64_t resolve(std::uint64_t id, const std::vector<std::uint64_t>& created) {
  if (id >= kIdReferences || created.empty()) return id;
  return created[id % created.size()];
}

void check(const grpc::Status& status) {
  danube::fuzz::require(status.error_code() != grpc::StatusCode::INTERNAL &&
                            status.error_code() != grpc::StatusCode::UNKNOWN,
                        "broker: no INTERNAL or UNKNOWN answer outside ack and nack");
}

class Session {
 public:
  Session() : core_(danube::testkit::BrokerOptions{}, timers_, signal_) {
    core_.set_service_url("http://127.0.0.1:6650");
  }
  // Timer tasks (ack timeouts, nack backoff) point into the core: none may run once it goes.
  ~Session() { timers_.clear(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run(const Call& call);

 private:
  TimerQueue timers_;
  ChangeSignal signal_;
  BrokerCore core_;
  std::vector<std::uint64_t> producers_;
  std::vector<std::uint64_t> consumers_;
};

void Session::run(const Call& call) {
  auto& registry = core_.schemas();
  switch (call.request_case()) {
    case Call::kTopicLookup: {
      danube::TopicLookupResponse response;
      check(core_.topic_lookup(call.topic_lookup(), &response));
      break;
    }
    case Call::kTopicPartitions: {
      danube::TopicPartitionsResponse response;
      check(core_.topic_partitions(call.topic_partitions(), &response));
      break;
    }
    case Call::kCreateProducer: {
      danube::ProducerResponse response;
      const auto status = core_.create_producer(call.create_producer(), &response);
      check(status);
      if (status.ok()) producers_.push_back(response.producer_id());
      break;
    }
    case Call::kSendMessage: {
      auto message = call.send_message();
      message.mutable_msg_id()->set_producer_id(
          resolve(message.msg_id().producer_id(), producers_));
      danube::MessageResponse response;
      check(core_.send_message(message, &response));
      break;
    }
    case Call::kSubscribe: {
      danube::ConsumerResponse response;
      const auto status = core_.subscribe(call.subscribe(), &response);
      check(status);
      if (status.ok()) consumers_.push_back(response.consumer_id());
      break;
    }
    case Call::kAck: {
      danube::AckResponse response;
      (void)core_.ack(call.ack(), &response);
      break;
    }
    case Call::kNack: {
      danube::NackResponse response;
      (void)core_.nack(call.nack(), &response);
      break;
    }
    case Call::kHealthCheck: {
      auto request = call.health_check();
      request.set_id(resolve(request.id(), request.client() == danube::HealthCheckRequest::Producer
                                               ? producers_
                                               : consumers_));
      danube::HealthCheckResponse response;
      check(core_.health_check(request, &response));
      break;
    }
    case Call::kListSegmentDescriptors: {
      danube::ListSegmentDescriptorsResponse response;
      check(core_.list_segment_descriptors(call.list_segment_descriptors(), &response));
      break;
    }
    case Call::kReceive:
      (void)core_.stream_target(resolve(call.receive().consumer_id(), consumers_));
      break;
    case Call::kRegisterSchema: {
      danube_schema::RegisterSchemaResponse response;
      check(registry.register_schema(call.register_schema(), &response));
      break;
    }
    case Call::kGetSchema: {
      danube_schema::GetSchemaResponse response;
      check(registry.get_schema(call.get_schema(), &response));
      break;
    }
    case Call::kGetLatestSchema: {
      danube_schema::GetSchemaResponse response;
      check(registry.get_latest_schema(call.get_latest_schema(), &response));
      break;
    }
    case Call::kListVersions: {
      danube_schema::ListVersionsResponse response;
      check(registry.list_versions(call.list_versions(), &response));
      break;
    }
    case Call::kCheckCompatibility: {
      danube_schema::CheckCompatibilityResponse response;
      check(registry.check_compatibility(call.check_compatibility(), &response));
      break;
    }
    case Call::kDeleteSchemaVersion: {
      danube_schema::DeleteSchemaVersionResponse response;
      check(registry.delete_schema_version(call.delete_schema_version(), &response));
      break;
    }
    case Call::kSetCompatibilityMode: {
      danube_schema::SetCompatibilityModeResponse response;
      check(registry.set_compatibility_mode(call.set_compatibility_mode(), &response));
      break;
    }
    case Call::kConfigureTopicSchema: {
      danube_schema::ConfigureTopicSchemaResponse response;
      check(core_.configure_topic_schema(call.configure_topic_schema(), &response));
      break;
    }
    case Call::kUpdateTopicValidationPolicy: {
      danube_schema::UpdateTopicValidationPolicyResponse response;
      check(core_.update_topic_validation_policy(call.update_topic_validation_policy(), &response));
      break;
    }
    case Call::kGetTopicSchemaConfig: {
      danube_schema::GetTopicSchemaConfigResponse response;
      check(core_.get_topic_schema_config(call.get_topic_schema_config(), &response));
      break;
    }
    case Call::kListSubjects: {
      danube_schema::ListSubjectsResponse response;
      check(registry.list_subjects(&response));
      break;
    }
    case Call::kCreateTopic:
      try {
        const auto& topic = call.create_topic();
        core_.create_topic(topic.name(), topic.reliable(),
                           std::min(topic.partitions(), kMaxPartitions));
      } catch (const std::exception&) {
        // Bad names, missing namespaces and conflicts are reported by throwing.
      }
      break;
    case Call::kCreateNamespace:
      try {
        core_.create_namespace(call.create_namespace());
      } catch (const std::exception&) {
      }
      break;
    case Call::REQUEST_NOT_SET:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The broker logs every topic and producer at info level, and protobuf logs every string
  // that is not UTF-8: millions of lines that only slow the fuzzer down.
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::err);
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) return 0;
  danube_fuzz::Script script;
  if (!script.ParseFromArray(data, static_cast<int>(size))) return 0;
  Session session;
  for (const auto& call : script.calls())
    session.run(call);
  return 0;
}
