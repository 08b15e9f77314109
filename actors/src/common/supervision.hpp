#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "danube/common/backoff.hpp"
#include "danube/connect/error.hpp"
#include "danube/runtime/runtime_status.hpp"
#include "runtime_actor.hpp"
#include "runtime_context.hpp"

namespace danube::runtime {

// Where a failure comes from, which decides whether it may be restarted.
enum class FailureOrigin {
  connector,  // the connector or its pipeline: restarted only with [supervision] on_fatal = restart
  runtime,    // one of the runtime's own actors died: always restarted, within the budget
};

// The life cycle both supervisors (sink and source) share: starting, running, restarting after
// a failure ([supervision] on_fatal, at most max_restarts within restart_window_ms, backoff with
// jitter), draining, and finishing (answer the drain requests, stop the children, quit with an
// exit reason that keeps the failure's kind).
class SupervisionState {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Decision {
    ignore,   // already finished, or a restart is already pending
    restart,  // tear the pipeline down and build it again after next_restart_delay()
    stop,     // finish with the failure
  };

  SupervisionState(const connect::ConnectorConfig& config, std::string kind);

  // A pipeline incarnation is being built (the first one, or one after a restart).
  void set_starting(const RuntimeContext& context);
  void set_running(const RuntimeContext& context);

  // `now` is the actor's clock (the test coordinator's in deterministic tests).
  Decision on_failure(const RuntimeContext& context, const connect::ConnectorError& error,
                      const std::string& where, FailureOrigin origin, Clock::time_point now);
  // The delay before the restart on_failure just decided; grows with the restarts in the window.
  std::chrono::milliseconds next_restart_delay();
  bool restart_pending() const { return phase_ == Phase::restart_pending; }

  // Registers a drain request. Returns true when it starts the drain (the first request).
  // After the end, requests are answered at once.
  bool begin_drain(const RuntimeContext& context,
                   caf::typed_response_promise<RuntimeStatus> promise);

  // The failure the runtime ends with when it finishes now: the last one while no pipeline
  // has reached running since (a drain during a restart does not hide it), else none.
  std::optional<connect::ConnectorError> unresolved_failure() const;
  // Records that a step of the orderly end did not finish within the shutdown budget.
  void mark_incomplete(const std::string& step);

  // Answers every drain request, stops the children, and quits: normally, or with an exit
  // reason carrying `failure` (or the incomplete shutdown).
  void finish(caf::scheduled_actor* self, const RuntimeContext& context,
              const std::optional<connect::ConnectorError>& failure,
              const std::vector<caf::actor_addr>& children);

  // Pauses or resumes intake (health and status show it). Returns false, changing nothing, once
  // draining or finished.
  bool set_paused(const RuntimeContext& context, bool paused);
  bool paused() const { return paused_; }

  RuntimeStatus status(const RuntimeContext& context) const;
  bool draining() const { return phase_ == Phase::draining; }
  bool finished() const { return phase_ == Phase::finished; }

 private:
  enum class Phase { starting, running, restart_pending, draining, finished };

  std::string state_name() const;

  std::string kind_;  // "sink" or "source"
  Phase phase_ = Phase::starting;
  bool after_restart_ = false;  // the pipeline being started follows a restart
  bool failed_ = false;         // finished with a failure
  bool paused_ = false;         // intake paused by an operator
  std::uint32_t restarts_ = 0;  // over the whole life, for status and logs
  std::uint32_t max_restarts_ = 0;
  std::chrono::milliseconds restart_window_{0};
  std::deque<Clock::time_point> recent_restarts_;  // within restart_window_
  bool restart_on_fatal_ = false;
  std::string last_error_;
  std::int64_t last_error_unix_ms_ = 0;
  std::optional<connect::ConnectorError> unresolved_;
  std::vector<std::string> incomplete_steps_;
  std::vector<caf::typed_response_promise<RuntimeStatus>> drain_waiters_;
  std::shared_ptr<Backoff> restart_backoff_;
};

// The exit reasons of a runtime that did not end with a complete drain. They keep what the
// run helpers need for the exit code: the ConnectorError's kind (a configuration error is not
// a crash), or the drain that the shutdown budget cut short.
enum class RuntimeExit : std::uint8_t {
  connector_failed = 1,  // the code's low bits are not used: the ErrorKind travels alongside
  drain_incomplete = 2,
};
caf::error failure_exit_reason(const connect::ConnectorError& error);
caf::error drain_incomplete_exit_reason(const std::string& what);
// The ErrorKind inside a failure_exit_reason, if `reason` is one.
std::optional<connect::ErrorKind> failure_kind(const caf::error& reason);
bool is_drain_incomplete(const caf::error& reason);
// The category atom of these exit reasons, and a renderer for actor_system_config.
caf::atom_value runtime_error_category();
std::string render_runtime_error(std::uint8_t code, caf::atom_value category,
                                 const caf::message& context);

}  // namespace danube::runtime
