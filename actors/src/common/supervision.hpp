#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "danube/connect/backoff.hpp"
#include "danube/connect/error.hpp"
#include "danube/runtime/runtime_status.hpp"
#include "runtime_actor.hpp"
#include "runtime_context.hpp"

namespace danube::runtime {

// The life cycle both supervisors (sink and source) share: starting, running, restarting after
// a fatal failure ([supervision] on_fatal, max_restarts, backoff with jitter), draining, and
// finishing (answer the drain requests, stop the children, quit with the right exit reason).
class SupervisionState {
 public:
  enum class Decision {
    ignore,   // already finished, or a restart is already pending
    restart,  // tear the pipeline down and build it again after next_restart_delay()
    stop,     // finish with the failure
  };

  SupervisionState() = default;
  SupervisionState(const connect::ConnectorConfig& config, std::string kind);

  void set_starting(const RuntimeContext& context);
  void set_running(const RuntimeContext& context);

  Decision on_failure(const RuntimeContext& context, const connect::ConnectorError& error,
                      const std::string& where);
  std::chrono::milliseconds next_restart_delay();

  // Registers a drain request. Returns true when it starts the drain (the first request):
  // then the caller drains and the [shutdown] timeout is armed (timeout_atom to `self`).
  // After the end, requests are answered at once.
  bool begin_drain(RuntimeActor* self, const RuntimeContext& context,
                   caf::response_promise promise);

  // Answers every drain request, stops the children, and quits: normally, or with an error
  // exit reason carrying `failure`.
  void finish(RuntimeActor* self, const RuntimeContext& context,
              const std::optional<connect::ConnectorError>& failure,
              const std::vector<caf::actor>& children);

  RuntimeStatus status(const RuntimeContext& context) const;
  bool draining() const { return draining_; }
  bool finished() const { return finished_; }

 private:
  std::string kind_;  // "sink" or "source"
  std::string state_ = "starting";
  std::uint32_t restarts_ = 0;
  std::uint32_t max_restarts_ = 0;
  bool restart_on_fatal_ = false;
  std::string last_error_;
  bool draining_ = false;
  bool finished_ = false;
  std::chrono::milliseconds drain_timeout_{30000};
  std::vector<caf::response_promise> drain_waiters_;
  std::shared_ptr<connect::Backoff> restart_backoff_;
};

// The exit reason of a runtime that failed for good.
caf::error failure_exit_reason(const connect::ConnectorError& error);

}  // namespace danube::runtime
