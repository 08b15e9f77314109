#include "proto_conversions.hpp"

#include "schema_definition_envelope.hpp"

namespace danube::client::detail {

ReceivedMessage to_received_message(danube::StreamMessage&& message) {
  ReceivedMessage received;
  received.request_id = message.request_id();
  const auto& id = message.msg_id();
  received.id.producer_id = id.producer_id();
  received.id.topic_name = id.topic_name();
  received.id.broker_addr = id.broker_addr();
  received.id.topic_offset = id.topic_offset();
  received.payload = std::move(*message.mutable_payload());
  received.publish_time = message.publish_time();
  received.producer_name = std::move(*message.mutable_producer_name());
  received.subscription_name = std::move(*message.mutable_subscription_name());
  for (auto& [key, value] : *message.mutable_attributes()) {
    received.attributes.emplace(key, std::move(value));
  }
  if (message.has_schema_id()) received.schema_id = message.schema_id();
  if (message.has_schema_version()) received.schema_version = message.schema_version();
  if (message.has_routing_key()) received.routing_key = std::move(*message.mutable_routing_key());
  return received;
}

void fill_msg_id(const MessageId& id, danube::MsgID* out) {
  out->set_producer_id(id.producer_id);
  out->set_topic_name(id.topic_name);
  out->set_broker_addr(id.broker_addr);
  out->set_topic_offset(id.topic_offset);
}

danube::DispatchStrategy to_proto(Dispatch dispatch) {
  return dispatch == Dispatch::reliable ? danube::Reliable : danube::NonReliable;
}

danube::ConsumerRequest::SubscriptionType to_proto(SubscriptionType type) {
  switch (type) {
    case SubscriptionType::exclusive:
      return danube::ConsumerRequest::Exclusive;
    case SubscriptionType::shared:
      return danube::ConsumerRequest::Shared;
    case SubscriptionType::failover:
      return danube::ConsumerRequest::Failover;
    case SubscriptionType::key_shared:
      return danube::ConsumerRequest::KeyShared;
  }
  return danube::ConsumerRequest::Shared;
}

void fill_schema_reference(const SchemaReference& reference, danube::SchemaReference* out) {
  out->set_subject(reference.subject);
  switch (reference.version.kind) {
    case VersionStrategy::Kind::latest:
      out->set_use_latest(true);
      break;
    case VersionStrategy::Kind::pinned:
      out->set_pinned_version(reference.version.version);
      break;
    case VersionStrategy::Kind::minimum:
      out->set_min_version(reference.version.version);
      break;
  }
}

RegisteredSchema to_registered_schema(const danube_schema::GetSchemaResponse& response) {
  RegisteredSchema info;
  info.schema_id = response.schema_id();
  info.version = response.version();
  info.subject = response.subject();
  info.schema_type = response.schema_type();
  // Users get the schema as registered, whichever form the broker answers it in.
  info.definition = unwrap_schema_definition(response.schema_type(), response.schema_definition());
  info.description = response.description();
  info.created_at = response.created_at();
  info.created_by = response.created_by();
  info.tags.assign(response.tags().begin(), response.tags().end());
  info.fingerprint = response.fingerprint();
  info.compatibility_mode = response.compatibility_mode();
  return info;
}

}  // namespace danube::client::detail
