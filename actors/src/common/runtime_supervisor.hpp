#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "broker_io_actor.hpp"
#include "connector_activity.hpp"
#include "connector_worker.hpp"
#include "danube/connect/error.hpp"
#include "dead_letter_router_actor.hpp"
#include "health_monitor_actor.hpp"
#include "runtime_actor.hpp"
#include "runtime_context.hpp"
#include "supervision.hpp"
#include "supervisor_actor.hpp"

namespace danube::runtime {

// The actors a runtime keeps across pipeline incarnations, around the connector's own actor.
struct RuntimeActors {
  connector_worker_actor connector;  // the sink worker or the source driver
  broker_io_actor broker_io;
  dead_letter_router_actor dead_letter_router;
  health_monitor_actor health_monitor;
};

// The self pointer every supervisor (sink or source) has in common.
using SupervisorSelf = TypedActor<supervisor_actor>;

// What sink and source supervisors do differently; the rest is RuntimeSupervisor's.
struct PipelineHooks {
  // Builds pipeline incarnation `incarnation`; its actors stamp their failures with it, and
  // the hook calls RuntimeSupervisor::pipeline_running once the pipeline runs.
  std::function<void(std::uint64_t incarnation)> start;
  // Stops the pipeline's actors at once; what they did not finish comes back (the broker
  // redelivers unacked records, the source polls uncommitted ones again).
  std::function<void()> tear_down;
  // Stops intake and finishes what is in flight, then calls RuntimeSupervisor::finish.
  std::function<void()> drain;
  // Closes the pipeline's broker clients (flushing them until `deadline`), then calls `then`.
  std::function<void(std::chrono::steady_clock::time_point deadline, std::function<void()> then)>
      close_clients;
  // Whether `actor` belongs to the current pipeline incarnation.
  std::function<bool(const caf::actor_addr& actor)> owns;
  // Tells the current pipeline's intake actors to pause or resume (IntakePause). A pipeline
  // built later starts as RuntimeSupervisor::paused() says.
  std::function<void(bool paused)> set_paused;
  // Spawns the connector's actor (sink worker or source driver), again after it died.
  std::function<connector_worker_actor(std::shared_ptr<ConnectorActivity> activity)>
      spawn_connector;
};

// The life of a runtime's root actor, shared by sinks and sources:
// - it spawns and monitors the long-lived actors (connector, broker I/O, dead-letter router,
//   health monitor) and respawns any that dies, then rebuilds the pipeline, with backoff;
// - failures restart the pipeline or stop the runtime (SupervisionState decides);
// - drains and failures end in an orderly way within one shutdown budget
//   ([shutdown] timeout_ms): intake stops and in-flight work finishes until 60 % of it, broker
//   clients are closed by 75 %, the connector's shutdown() has until 90 %; a step that overruns
//   is abandoned, named in the log, and makes the exit reason say the drain was incomplete.
//   The run helpers end the process at 100 % whatever still runs.
class RuntimeSupervisor {
 public:
  using Clock = std::chrono::steady_clock;

  RuntimeSupervisor(SupervisorSelf* self, ContextPtr context, std::string kind,
                    PipelineHooks hooks);

  // The supervisor's whole behavior.
  supervisor_actor::behavior_type behavior();

  void start();  // builds the first pipeline incarnation
  void fail(const connect::ConnectorError& error, const std::string& where,
            std::uint64_t incarnation = 0, FailureOrigin origin = FailureOrigin::connector);
  void pipeline_running(std::uint64_t incarnation);
  // The orderly end: close the clients, shut the connector down, stop the children, quit.
  void finish(std::optional<connect::ConnectorError> failure);

  std::uint64_t incarnation() const { return incarnation_; }
  // Whether intake is paused (an operator's pause_atom, until resume_atom).
  bool paused() const { return supervision_.paused(); }
  bool is_current(std::uint64_t incarnation) const;
  // Ends broker I/O waits (subscribe, producer creation) of the current incarnation when it is
  // torn down, or of the whole runtime when it ends.
  std::stop_token pipeline_stop() const { return pipeline_stop_.get_token(); }
  std::stop_token runtime_stop() const { return runtime_stop_.get_token(); }
  SupervisionState& supervision() { return supervision_; }
  const RuntimeActors& actors() const { return actors_; }

 private:
  enum class Child { connector, broker_io, dead_letter_router, health_monitor };

  void spawn_missing_children();
  std::optional<Child> child_at(const caf::actor_addr& address) const;
  void on_down(const caf::down_msg& down);
  void restart_later();
  RuntimeStatus pause_intake(bool paused);
  void begin_shutdown_budget();
  Clock::time_point budget_mark(double fraction) const;
  // The remaining time until `deadline`, at least 1 ms (a CAF request needs a positive timeout).
  static std::chrono::milliseconds until(Clock::time_point deadline);
  std::vector<caf::actor_addr> children() const;

  SupervisorSelf* self_;
  ContextPtr context_;
  SupervisionState supervision_;
  RuntimeActors actors_;
  std::array<bool, 4> child_down_{};
  PipelineHooks hooks_;
  std::shared_ptr<ConnectorActivity> activity_ = std::make_shared<ConnectorActivity>();
  std::uint64_t incarnation_ = 0;
  std::stop_source pipeline_stop_;
  std::stop_source runtime_stop_;
  std::optional<Clock::time_point> shutdown_started_;
  bool finishing_ = false;
};

}  // namespace danube::runtime
