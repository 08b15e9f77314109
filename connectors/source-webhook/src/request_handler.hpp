#pragma once

// The life of one webhook request, from the path to the answer:
//   404 unknown path, 405 not POST, 429 over a rate limit, 413 body too large, 401 not
//   authentic, 400 not JSON / not valid for the schema, 503 the runtime cannot take or confirm
//   the record in time, 200 accepted (not reliable) or stored (reliable: the broker has it).
// Called from many HTTP threads at once.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth.hpp"
#include "danube/connect/connector_context.hpp"
#include "publisher.hpp"
#include "rate_limiter.hpp"
#include "webhook_config.hpp"
#include "webhook_request.hpp"

namespace danube::webhook {

class RequestHandler {
 public:
  // `publisher` and `context` must outlive the handler. Throws std::invalid_argument when an
  // endpoint's authentication cannot be set up (a JWT key that does not parse).
  RequestHandler(const WebhookSettings& settings, const connect::ConnectorContext& context,
                 Publisher& publisher);

  WebhookResponse handle(const WebhookRequest& request, BodySource& body);

 private:
  struct Endpoint {
    EndpointSettings settings;
    Authenticator authenticator;
    std::unique_ptr<RateLimiter> rate_limiter;  // null: unlimited
    std::map<int, connect::Counter*> requests_by_status;
    connect::Histogram* duration = nullptr;
  };

  WebhookResponse handle_endpoint(Endpoint& endpoint, const WebhookRequest& request,
                                  BodySource& body, std::string& outcome);
  WebhookResponse health(const WebhookRequest& request) const;
  WebhookResponse error(int status, const std::string& reason) const;
  WebhookResponse unavailable(const std::string& reason) const;
  void count(Endpoint* endpoint, int status);

  ServerSettings server_;
  connect::ConnectorContext context_;
  Publisher& publisher_;
  std::unordered_map<std::string, std::unique_ptr<Endpoint>> endpoints_;  // by path
  std::map<int, connect::Counter*> unknown_path_requests_;
};

}  // namespace danube::webhook
