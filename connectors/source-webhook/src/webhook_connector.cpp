#include "webhook_connector.hpp"

#include <algorithm>
#include <set>

namespace danube::webhook {

WebhookConnector::WebhookConnector(connect::Environment environment)
    : environment_(std::move(environment)) {}

WebhookConnector::~WebhookConnector() {
  shutdown();
}

void WebhookConnector::initialize(const connect::ConnectorContext& context) {
  shutdown();  // a restart: the previous incarnation's listener and waiters end first
  context_.emplace(context);
  settings_ = parse_webhook_settings(context.config(), environment_);
  std::uint64_t highest = 0;
  for (const auto& offset : context.resume_offsets()) {
    if (offset.partition == kOffsetPartition) highest = std::max(highest, offset.value);
  }
  tracker_->start(highest);
  publisher_ = std::make_unique<Publisher>(tracker_, settings_.server.send_timeout,
                                           settings_.server.ack_timeout);
  try {
    handler_ = std::make_unique<RequestHandler>(settings_, *context_, *publisher_);
  } catch (const std::invalid_argument& problem) {
    throw connect::ConnectorError::configuration(problem.what());
  }
  auto& logger = context.logger();
  if (context.config().dead_letter.policy == connect::DeadLetterPolicy::skip) {
    // A skipped record is settled, so it is committed: a reliable request would be answered
    // 2xx although its event was dropped.
    logger.warn(
        "webhook_dead_letter_skip",
        {{"detail",
          "[dead_letter] policy = skip: a reliable endpoint's 2xx no longer means stored"}});
  }
  logger.info("webhook_configured",
              {{"host", settings_.server.host},
               {"port", settings_.server.port},
               {"tls", settings_.server.tls()},
               {"routes", settings_.endpoints.size()},
               {"resume_offset", highest},
               {"commit_interval_ms", context.config().offsets.commit_interval_ms}});
  for (const auto& endpoint : settings_.endpoints) {
    logger.info("webhook_route", {{"from", endpoint.path},
                                  {"to", endpoint.topic},
                                  {"partitions", endpoint.partitions},
                                  {"reliable_dispatch", endpoint.reliable_dispatch},
                                  {"auth", endpoint.auth.describe()},
                                  {"rate_limited", endpoint.rate_limit.has_value()},
                                  {"schema", endpoint.schema != nullptr},
                                  {"require_json", endpoint.require_json}});
  }
}

std::vector<connect::ProducerConfig> WebhookConnector::producer_configs() {
  std::vector<connect::ProducerConfig> configs;
  std::set<std::string> seen;  // routes may share a topic (with the same settings: checked)
  for (const auto& endpoint : settings_.endpoints) {
    if (!seen.insert(endpoint.topic).second) continue;
    configs.emplace_back(endpoint.topic, endpoint.partitions, endpoint.reliable_dispatch);
  }
  return configs;
}

void WebhookConnector::start_streaming(connect::SourceSender sender) {
  publisher_->attach(std::move(sender));
  auto listener = std::make_unique<HttpListener>(settings_.server, *handler_, context_->logger());
  const auto port = listener->port();
  {
    std::lock_guard lock(listener_mutex_);
    listener_ = std::move(listener);
  }
  context_->logger().info("webhook_listening",
                          {{"address", settings_.server.host + ":" + std::to_string(port)},
                           {"tls", settings_.server.tls()}});
}

void WebhookConnector::commit(const std::vector<connect::Offset>& offsets) {
  for (const auto& offset : offsets) {
    if (offset.partition == kOffsetPartition) tracker_->committed(offset.value);
  }
}

void WebhookConnector::shutdown() {
  // Waiting requests first: mg_stop() waits for every handler thread to return.
  tracker_->stop();
  if (publisher_) publisher_->detach();
  std::unique_ptr<HttpListener> listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener = std::move(listener_);
  }
  if (listener) {
    listener->stop();
    if (context_) context_->logger().info("webhook_stopped", {{"port", listener->port()}});
  }
}

void WebhookConnector::health_check() {
  std::lock_guard lock(listener_mutex_);
  if (publisher_ && publisher_->attached() && !listener_) {
    throw connect::ConnectorError::fatal("the webhook listener is not running");
  }
}

std::uint16_t WebhookConnector::port() const {
  std::lock_guard lock(listener_mutex_);
  return listener_ ? listener_->port() : 0;
}

}  // namespace danube::webhook
