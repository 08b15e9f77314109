#pragma once

#include <caf/all.hpp>
#include <functional>
#include <optional>
#include <string>

#include "danube/connect/error.hpp"
#include "runtime_context.hpp"
#include "supervision.hpp"

namespace danube::runtime {

// The actors a runtime keeps across pipeline incarnations, around the connector's own actor.
struct RuntimeActors {
  caf::actor connector;  // the sink worker or the source driver: the thread calling the connector
  caf::actor broker_io;
  caf::actor dead_letter_router;
  caf::actor health_monitor;
};

// What sink and source supervisors do differently; the rest is RuntimeSupervisor's.
struct PipelineHooks {
  std::function<void()> start;      // build a pipeline incarnation
  std::function<void()> tear_down;  // stop the pipeline's actors at once
  // Stop intake and finish what is in flight, then call RuntimeSupervisor::finish.
  std::function<void()> drain;
  // Close the pipeline's broker clients (flushing them), then call the argument.
  std::function<void(std::function<void()>)> close_clients;
};

// The life of a runtime's root actor, shared by sinks and sources: spawning the long-lived
// actors, failures (restart with backoff or stop), drains with their timeout, status replies,
// and an orderly end (clients closed and flushed, connector shut down, children stopped).
class RuntimeSupervisor {
 public:
  // `connector` is the sink worker or source driver, already spawned. `self` monitors every
  // long-lived actor: an unexpected exit counts as a failure.
  RuntimeSupervisor(RuntimeActor* self, ContextPtr context, std::string kind, caf::actor connector,
                    PipelineHooks hooks);

  // The handlers of ConnectorFailed, restart_atom, status_atom, drain_atom and timeout_atom.
  caf::behavior behavior();

  void fail(const connect::ConnectorError& error, const std::string& where);
  void finish(std::optional<connect::ConnectorError> failure);

  SupervisionState& supervision() { return supervision_; }
  const RuntimeActors& actors() const { return actors_; }

 private:
  RuntimeActor* self_;
  ContextPtr context_;
  SupervisionState supervision_;
  RuntimeActors actors_;
  PipelineHooks hooks_;
};

}  // namespace danube::runtime
