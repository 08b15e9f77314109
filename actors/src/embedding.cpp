#include "danube/runtime/embedding.hpp"

#include "common/registry_adapter.hpp"
#include "common/runtime_context.hpp"
#include "danube/services/custom_metrics.hpp"
#include "danube/services/logging.hpp"
#include "sink/sink_supervisor_actor.hpp"
#include "source/source_supervisor_actor.hpp"

namespace danube::runtime {
namespace {

ContextPtr make_context(connect::ConnectorConfig config, RuntimeServices services) {
  config.validate();
  auto context = std::make_shared<RuntimeContext>(RuntimeContext{
      config,
      services.client ? *services.client : make_client(config),
      services.metrics ? services.metrics
                       : std::make_shared<services::ConnectorMetrics>(config.connector_name),
      services.health ? services.health
                      : std::make_shared<services::HealthState>(config.connector_name),
      nullptr,
  });
  context->schema_registry = make_registry_adapter(context->client);
  context->connector_logger = std::make_shared<services::ConnectorLogger>();
  context->connector_metrics = std::make_shared<services::CustomMetrics>(
      context->metrics->registry(), context->config.connector_name);
  return context;
}

}  // namespace

connector_actor spawn_sink(caf::actor_system& system,
                           std::unique_ptr<connect::SinkConnector> connector,
                           connect::ConnectorConfig config, RuntimeServices services) {
  auto context = make_context(std::move(config), std::move(services));
  auto supervisor = spawn_sink_supervisor(
      system, std::shared_ptr<connect::SinkConnector>(std::move(connector)), std::move(context));
  return supervisor;
}

connector_actor spawn_source(caf::actor_system& system,
                             std::unique_ptr<connect::SourceConnector> connector,
                             connect::ConnectorConfig config, RuntimeServices services) {
  auto context = make_context(std::move(config), std::move(services));
  auto supervisor = spawn_source_supervisor(
      system, std::shared_ptr<connect::SourceConnector>(std::move(connector)), std::move(context));
  return supervisor;
}

}  // namespace danube::runtime
