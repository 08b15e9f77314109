#include "request_handler.hpp"

#include <nlohmann/json.hpp>

#include "webhook_record.hpp"

namespace danube::webhook {
namespace {

constexpr const char* kRequestsMetric = "webhook_requests_total";
constexpr const char* kRequestsHelp = "Webhook requests answered, by endpoint and HTTP status";
constexpr const char* kDurationMetric = "webhook_request_duration_seconds";
constexpr const char* kDurationHelp =
    "Time from the request's arrival to its answer (reliable: includes the broker's ack)";
// The statuses a request can end with; their series exist from the start, at zero.
constexpr int kStatuses[] = {200, 400, 401, 405, 413, 429, 500, 503};
// Requests for unknown paths are counted under one label: paths are the client's choice, and
// a label per path would let anyone create series without end.
constexpr const char* kUnknownEndpoint = "unknown";

std::string json_body(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string seconds_until(SteadyClock::duration wait) {
  // Retry-After takes whole seconds; rounding up never invites a retry that fails again.
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::to_string(std::max<std::int64_t>(1, seconds));
}

}  // namespace

RequestHandler::RequestHandler(const WebhookSettings& settings,
                               const connect::ConnectorContext& context, Publisher& publisher)
    : server_(settings.server), context_(context), publisher_(publisher) {
  auto& metrics = context_.metrics();
  const auto now = SteadyClock::now();
  for (const auto& endpoint_settings : settings.endpoints) {
    auto endpoint = std::make_unique<Endpoint>(
        Endpoint{endpoint_settings, Authenticator(endpoint_settings.auth), nullptr, {}, nullptr});
    if (endpoint_settings.rate_limit) {
      endpoint->rate_limiter = std::make_unique<RateLimiter>(*endpoint_settings.rate_limit, now);
    }
    for (const int status : kStatuses) {
      endpoint->requests_by_status[status] = &metrics.counter(
          kRequestsMetric, kRequestsHelp,
          {{"endpoint", endpoint_settings.path}, {"status", std::to_string(status)}});
    }
    endpoint->duration =
        &metrics.histogram(kDurationMetric, kDurationHelp,
                           {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
                           {{"endpoint", endpoint_settings.path}});
    endpoints_.emplace(endpoint_settings.path, std::move(endpoint));
  }
  for (const int status : {404, 405}) {
    unknown_path_requests_[status] =
        &metrics.counter(kRequestsMetric, kRequestsHelp,
                         {{"endpoint", kUnknownEndpoint}, {"status", std::to_string(status)}});
  }
}

void RequestHandler::count(Endpoint* endpoint, int status) {
  auto& known = endpoint ? endpoint->requests_by_status : unknown_path_requests_;
  if (const auto found = known.find(status); found != known.end()) {
    found->second->increment();
    return;
  }
  context_.metrics()
      .counter(kRequestsMetric, kRequestsHelp,
               {{"endpoint", endpoint ? endpoint->settings.path : kUnknownEndpoint},
                {"status", std::to_string(status)}})
      .increment();
}

WebhookResponse RequestHandler::error(int status, const std::string& reason) const {
  WebhookResponse response;
  response.status = status;
  response.body =
      json_body({{"error", reason}, {"timestamp", rfc3339_utc(std::chrono::system_clock::now())}});
  return response;
}

WebhookResponse RequestHandler::unavailable(const std::string& reason) const {
  auto response = error(503, reason);
  response.headers.emplace_back("Retry-After", std::to_string(server_.retry_after.count()));
  return response;
}

WebhookResponse RequestHandler::health(const WebhookRequest& request) const {
  WebhookResponse response;
  const auto timestamp = rfc3339_utc(std::chrono::system_clock::now());
  if (request.path == "/health") {
    response.body = json_body({{"status", "healthy"}, {"timestamp", timestamp}});
    return response;
  }
  const bool ready = publisher_.attached();
  response.status = ready ? 200 : 503;
  response.body = json_body({{"status", ready ? "ready" : "not_ready"}, {"timestamp", timestamp}});
  return response;
}

WebhookResponse RequestHandler::handle(const WebhookRequest& request, BodySource& body) {
  const auto started = SteadyClock::now();
  const auto found = endpoints_.find(std::string(request.path));
  if (found == endpoints_.end()) {
    const bool health_path = request.path == "/health" || request.path == "/ready";
    if (server_.health_endpoints && health_path &&
        (request.method == "GET" || request.method == "HEAD")) {
      return health(request);
    }
    count(nullptr, 404);
    context_.logger().debug(
        "webhook_request",
        {{"endpoint", kUnknownEndpoint}, {"status", 404}, {"method", request.method}});
    return error(404, "Endpoint not found: " + std::string(request.path));
  }
  Endpoint& endpoint = *found->second;
  std::string outcome;
  WebhookResponse response;
  try {
    response = handle_endpoint(endpoint, request, body, outcome);
  } catch (const std::exception& failure) {
    context_.logger().error("webhook_request_failed",
                            {{"endpoint", endpoint.settings.path}, {"error", failure.what()}});
    response = error(500, "internal error");
    outcome = "internal_error";
  }
  count(&endpoint, response.status);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  endpoint.duration->observe(seconds);
  const connect::LogLevel level = response.status >= 500   ? connect::LogLevel::warn
                                  : response.status == 401 ? connect::LogLevel::info
                                                           : connect::LogLevel::debug;
  if (context_.logger().enabled(level)) {  // most requests: not even the fields are built
    context_.logger().log(level, "webhook_request",
                          {{"endpoint", endpoint.settings.path},
                           {"status", response.status},
                           {"outcome", outcome},
                           {"client", client_address(request, server_.trust_forwarded_headers)},
                           {"duration_ms", seconds * 1000.0}});
  }
  return response;
}

WebhookResponse RequestHandler::handle_endpoint(Endpoint& endpoint, const WebhookRequest& request,
                                                BodySource& body, std::string& outcome) {
  const EndpointSettings& settings = endpoint.settings;
  if (request.method != "POST") {
    outcome = "method_not_allowed";
    auto response = error(405, "Method not allowed: use POST");
    response.headers.emplace_back("Allow", "POST");
    return response;
  }
  const std::string client = client_address(request, server_.trust_forwarded_headers);
  if (endpoint.rate_limiter) {
    if (const auto refusal = endpoint.rate_limiter->admit(client, SteadyClock::now())) {
      outcome = std::string("rate_limited_") + refusal->which;
      auto response = error(
          429, std::string("Rate limit exceeded for ") +
                   (std::string_view(refusal->which) == "client" ? "client " + client
                                                                 : "endpoint " + settings.path));
      response.headers.emplace_back("Retry-After", seconds_until(refusal->retry_after));
      return response;
    }
  }
  const std::size_t limit = server_.max_body_size;
  const auto declared = body.declared_length();
  std::string payload;
  if ((declared && *declared > limit) || !body.read(limit, payload)) {
    outcome = "body_too_large";
    return error(413, "Payload exceeds the maximum of " + std::to_string(limit) + " bytes");
  }
  const auto now = std::chrono::system_clock::now();
  if (auto problem = endpoint.authenticator.verify(request.headers, payload, now)) {
    outcome = "unauthorized: " + *problem;
    auto response = error(401, "Unauthorized: " + *problem);
    if (settings.auth.mode == AuthMode::jwt) {
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
    }
    return response;
  }
  const bool wants_json = settings.require_json || settings.schema ||
                          settings.routing_key.kind == RoutingKeyRule::Kind::json_pointer;
  nlohmann::json parsed;
  bool is_json = false;
  if (wants_json) {
    parsed = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    is_json = !parsed.is_discarded();
    if (!is_json && (settings.require_json || settings.schema)) {
      outcome = "invalid_json";
      return error(400, "Body is not valid JSON");
    }
    if (is_json && settings.schema) {
      if (auto violation = settings.schema->validate(parsed)) {
        outcome = "schema_violation";
        return error(400, "Schema validation failed: " + *violation);
      }
    }
  }
  auto record = make_webhook_record(settings, context_.connector_name(), request, payload, client,
                                    is_json ? &parsed : nullptr, now);
  const auto result = publisher_.publish(std::move(record), settings.reliable_dispatch);
  outcome = std::string(to_string(result));
  switch (result) {
    case Publisher::Outcome::stored:
    case Publisher::Outcome::accepted: {
      WebhookResponse response;
      response.body = json_body({{"status", "accepted"},
                                 {"endpoint", settings.path},
                                 {"topic", settings.topic},
                                 {"acknowledged", result == Publisher::Outcome::stored}});
      return response;
    }
    case Publisher::Outcome::pipeline_full:
      return unavailable("The connector is at capacity; retry later");
    case Publisher::Outcome::not_acknowledged:
      return unavailable(
          "The broker did not acknowledge the event in time; it may still be stored, so a retry "
          "can duplicate it");
    case Publisher::Outcome::stopped:
      return unavailable("The connector is not running; retry later");
  }
  return unavailable("The connector is not running; retry later");
}

}  // namespace danube::webhook
