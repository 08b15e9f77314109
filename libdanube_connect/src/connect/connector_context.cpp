#include "danube/connect/connector_context.hpp"

#include "danube/connect/testing.hpp"

namespace danube::connect {

ConnectorContext::ConnectorContext(std::shared_ptr<const ConnectorConfig> config,
                                   std::vector<Offset> resume_offsets,
                                   std::shared_ptr<Logger> logger, std::shared_ptr<Metrics> metrics)
    : config_(std::move(config)),
      resume_offsets_(std::make_shared<const std::vector<Offset>>(std::move(resume_offsets))),
      logger_(std::move(logger)),
      metrics_(std::move(metrics)) {}

ConnectorContext ConnectorContext::standalone(ConnectorConfig config,
                                              std::vector<Offset> resume_offsets) {
  return ConnectorContext(std::make_shared<const ConnectorConfig>(std::move(config)),
                          std::move(resume_offsets), std::make_shared<testing::StderrLogger>(),
                          std::make_shared<testing::InMemoryMetrics>());
}

}  // namespace danube::connect
