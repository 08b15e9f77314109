#pragma once

// What a webhook request becomes in Danube: the Rust connector's payload rule (the JSON body, or
// a base64 object for anything else) and attributes (webhook.source, webhook.endpoint,
// webhook.timestamp, webhook.ip, webhook.user_agent, webhook.content_type), plus ours: copied
// headers (webhook.header.<name>) and a routing key.
#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "danube/connect/source_record.hpp"
#include "webhook_config.hpp"
#include "webhook_request.hpp"

namespace danube::webhook {

// Attribute prefix of the headers named by an endpoint's attribute_headers.
inline constexpr std::string_view kHeaderAttributePrefix = "webhook.header.";

// The time as chrono's to_rfc3339() in the Rust connector writes it: UTC with "+00:00" and as
// many fractional digits as needed (none, 3, 6 or 9): "2024-12-23T10:00:00.123+00:00".
std::string rfc3339_utc(std::chrono::system_clock::time_point time);

// The client's address: with `trust_forwarded_headers`, the first X-Forwarded-For entry, else
// X-Real-IP (what the Rust connector reports); otherwise, or without those headers, the peer.
std::string client_address(const WebhookRequest& request, bool trust_forwarded_headers);

// `body_json`: the parsed body when the caller parsed it (nullptr otherwise); used for a
// json_pointer routing key.
connect::SourceRecord make_webhook_record(const EndpointSettings& endpoint,
                                          const std::string& connector_name,
                                          const WebhookRequest& request, std::string_view body,
                                          std::string_view client, const nlohmann::json* body_json,
                                          std::chrono::system_clock::time_point now);

}  // namespace danube::webhook
