#pragma once

// The webhook source: a streaming SourceConnector whose records come from HTTP requests.
//
//   initialize       reads and checks the settings (config errors: exit code 2)
//   producer_configs one producer per route topic
//   start_streaming  starts the HTTP listener on [server] host:port
//   commit           wakes the requests waiting for their record's acknowledgement
//   shutdown         wakes every waiting request (503), then stops the listener
// The runtime may call shutdown() and then initialize() again (a supervised restart): the
// listener is rebuilt, offsets keep growing.
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ack_tracker.hpp"
#include "danube/connect/source_connector.hpp"
#include "http_listener.hpp"
#include "publisher.hpp"
#include "request_handler.hpp"
#include "webhook_config.hpp"

namespace danube::webhook {

class WebhookConnector final : public connect::SourceConnector {
 public:
  // `environment`: where SERVER_HOST and SERVER_PORT are read.
  explicit WebhookConnector(connect::Environment environment = connect::Environment::process());
  ~WebhookConnector() override;

  void initialize(const connect::ConnectorContext& context) override;
  std::vector<connect::ProducerConfig> producer_configs() override;
  connect::SourceMode mode() const override { return connect::SourceMode::streaming; }
  void start_streaming(connect::SourceSender sender) override;
  void commit(const std::vector<connect::Offset>& offsets) override;
  void shutdown() override;
  void health_check() override;

  // The listener's port once streaming (tests).
  std::uint16_t port() const;

 private:
  connect::Environment environment_;
  std::optional<connect::ConnectorContext> context_;
  WebhookSettings settings_;
  std::shared_ptr<AckTracker> tracker_ = std::make_shared<AckTracker>();
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<RequestHandler> handler_;
  mutable std::mutex listener_mutex_;
  std::unique_ptr<HttpListener> listener_;
};

}  // namespace danube::webhook
