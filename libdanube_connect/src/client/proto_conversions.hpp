#pragma once

#include "danube/DanubeApi.pb.h"
#include "danube/SchemaRegistry.pb.h"
#include "danube/client/message.hpp"
#include "danube/client/options.hpp"
#include "danube/client/schema_registry.hpp"

namespace danube::client::detail {

// Moves the fields out of `message`, which is left in an unspecified state.
ReceivedMessage to_received_message(danube::StreamMessage&& message);

void fill_msg_id(const MessageId& id, danube::MsgID* out);

danube::DispatchStrategy to_proto(Dispatch dispatch);
danube::ConsumerRequest::SubscriptionType to_proto(SubscriptionType type);
void fill_schema_reference(const SchemaReference& reference, danube::SchemaReference* out);

RegisteredSchema to_registered_schema(const danube_schema::GetSchemaResponse& response);

}  // namespace danube::client::detail
