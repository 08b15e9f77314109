#include "webhook_record.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "payload_rule.hpp"

namespace danube::webhook {
namespace {

std::optional<std::string> routing_key_of(const RoutingKeyRule& rule, const WebhookRequest& request,
                                          const nlohmann::json* body_json) {
  switch (rule.kind) {
    case RoutingKeyRule::Kind::none:
      return std::nullopt;
    case RoutingKeyRule::Kind::header:
      if (const auto value = request.headers.find(rule.name); value && !value->empty()) {
        return std::string(*value);
      }
      return std::nullopt;
    case RoutingKeyRule::Kind::json_pointer: {
      if (body_json == nullptr) return std::nullopt;
      const nlohmann::json::json_pointer pointer(rule.name);  // checked when configured
      if (!body_json->contains(pointer)) return std::nullopt;
      const auto& value = body_json->at(pointer);
      if (value.is_string()) return value.get<std::string>();
      if (value.is_null()) return std::nullopt;
      return value.dump();
    }
  }
  return std::nullopt;
}

}  // namespace

std::string rfc3339_utc(std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  const std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[40];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::string result(text);
  const long long fraction = nanos.count();
  char digits[32];
  if (fraction == 0) {
    // no fractional part
  } else if (fraction % 1'000'000 == 0) {
    std::snprintf(digits, sizeof(digits), ".%03lld", fraction / 1'000'000);
    result += digits;
  } else if (fraction % 1'000 == 0) {
    std::snprintf(digits, sizeof(digits), ".%06lld", fraction / 1'000);
    result += digits;
  } else {
    std::snprintf(digits, sizeof(digits), ".%09lld", fraction);
    result += digits;
  }
  return result + "+00:00";
}

std::string client_address(const WebhookRequest& request, bool trust_forwarded_headers) {
  if (trust_forwarded_headers) {
    if (const auto forwarded = request.headers.find("x-forwarded-for")) {
      const auto first = trim_header_spaces(forwarded->substr(0, forwarded->find(',')));
      if (!first.empty()) return std::string(first);
    }
    if (const auto real = request.headers.find("x-real-ip")) {
      const auto value = trim_header_spaces(*real);
      if (!value.empty()) return std::string(value);
    }
  }
  return std::string(request.peer_address);
}

connect::SourceRecord make_webhook_record(const EndpointSettings& endpoint,
                                          const std::string& connector_name,
                                          const WebhookRequest& request, std::string_view body,
                                          std::string_view client, const nlohmann::json* body_json,
                                          std::chrono::system_clock::time_point now) {
  auto record = connectors::json_or_base64_record(endpoint.topic, body);
  record.with_attribute("webhook.source", connector_name)
      .with_attribute("webhook.endpoint", std::string(request.path))
      .with_attribute("webhook.timestamp", rfc3339_utc(now));
  if (!client.empty()) record.with_attribute("webhook.ip", std::string(client));
  if (const auto agent = request.headers.find("user-agent")) {
    record.with_attribute("webhook.user_agent", std::string(*agent));
  }
  if (const auto type = request.headers.find("content-type")) {
    record.with_attribute("webhook.content_type", std::string(*type));
  }
  for (const auto& header : endpoint.attribute_headers) {
    if (const auto value = request.headers.find(header)) {
      record.with_attribute(std::string(kHeaderAttributePrefix) + header, std::string(*value));
    }
  }
  if (auto key = routing_key_of(endpoint.routing_key, request, body_json)) {
    record.with_key(std::move(*key));
  }
  return record;
}

}  // namespace danube::webhook
