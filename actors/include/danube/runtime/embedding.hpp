#pragma once

// The embedding API: run our connector actors inside your own caf::actor_system.
//
//   caf::actor_system system{config};
//   auto sink = danube::runtime::spawn_sink(system, std::make_unique<MySink>(), connector_config);
//   ...
//   caf::scoped_actor self{system};
//   self->request(sink, caf::infinite, danube::runtime::drain_atom::value)
//       .receive([](const danube::runtime::RuntimeStatus& status) { ... }, [](caf::error&) {});
//
// The returned actor supervises the whole pipeline. It terminates by itself after a drain
// (exit reason normal; an error exit reason when [shutdown] timeout_ms cut the drain short) or
// when the connector fails for good (an error exit reason carrying the error's kind); monitor it
// to learn which. Drain it before the actor system is destroyed: draining also closes the
// runtime's broker connections, whose threads must not outlive the system. A connector call
// that never returns keeps the actor system from being destroyed: the run helpers end the
// process at the end of the shutdown budget; an embedding application decides for itself.

#include <caf/all.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "danube/client/client.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/sink_connector.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/runtime/runtime_status.hpp"
#include "danube/services/admin_endpoints.hpp"
#include "danube/services/health_state.hpp"
#include "danube/services/metrics.hpp"

namespace danube::runtime {

// Stop intake, finish and acknowledge everything in flight, commit offsets, call the
// connector's shutdown(), close the broker connections, answer with the final status, quit.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
// Answer with the current status.
using status_atom = caf::atom_constant<caf::atom("status")>;
// Stop taking new work (sinks: nothing more is taken from the broker's stream, so its window
// fills and it stops sending; sources: poll() is not called, a streaming source's channel is
// not read) while what is in flight finishes and is acked or committed; answer the status.
// Kept across supervised restarts; a drain works as usual. No effect once draining.
using pause_atom = caf::atom_constant<caf::atom("pause")>;
// Take new work again; answer the status.
using resume_atom = caf::atom_constant<caf::atom("resume")>;

using connector_actor = caf::typed_actor<caf::replies_to<drain_atom>::with<RuntimeStatus>,
                                         caf::replies_to<status_atom>::with<RuntimeStatus>,
                                         caf::replies_to<pause_atom>::with<RuntimeStatus>,
                                         caf::replies_to<resume_atom>::with<RuntimeStatus>>;

// What a runtime shares with the process around it. Anything left empty is created from the
// connector config (the client from danube_service_url and [auth], fresh metrics on the
// default registry, a fresh health state).
struct RuntimeServices {
  std::optional<client::DanubeClient> client;
  std::shared_ptr<services::ConnectorMetrics> metrics;
  std::shared_ptr<services::HealthState> health;
};

// Both throw ConnectorError(configuration) when the config is invalid or the client cannot be
// created from it. Everything else (initialize, subscriptions) happens inside the actors.
connector_actor spawn_sink(caf::actor_system& system,
                           std::unique_ptr<connect::SinkConnector> connector,
                           connect::ConnectorConfig config, RuntimeServices services = {});
connector_actor spawn_source(caf::actor_system& system,
                             std::unique_ptr<connect::SourceConnector> connector,
                             connect::ConnectorConfig config, RuntimeServices services = {});

// The client a runtime would create for `config` (URL, TLS files, token). Throws
// ConnectorError(configuration) naming the problem.
client::DanubeClient make_client(const connect::ConnectorConfig& config);

// What serves GET /status, POST /pause and POST /resume of an HttpServer
// (HttpServer::attach_admin) for `runtime`: each request asks the runtime with `timeout` and
// answers 503 when it does not answer in time or has stopped; `health` adds uptime and health.
// Detach it from the server (HttpServer::detach_admin) before `system` is destroyed.
std::shared_ptr<services::AdminHandler> make_admin_handler(
    caf::actor_system& system, connector_actor runtime,
    std::shared_ptr<const services::HealthState> health,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::RuntimeStatus)
