#include "supervision.hpp"

#include <spdlog/spdlog.h>

#include "danube/runtime/embedding.hpp"

namespace danube::runtime {
namespace {

const caf::atom_value kRuntimeErrorCategory = caf::atom("dconnect");

// The exit reason's code: RuntimeExit, with the ErrorKind in the upper bits for failures.
constexpr std::uint8_t kKindShift = 4;
constexpr std::uint8_t kExitMask = (1u << kKindShift) - 1;

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const auto& item : items)
    joined += (joined.empty() ? "" : ",") + item;
  return joined;
}

}  // namespace

SupervisionState::SupervisionState(const connect::ConnectorConfig& config, std::string kind)
    : kind_(std::move(kind)),
      max_restarts_(config.supervision.max_restarts),
      restart_window_(config.supervision.restart_window_ms),
      restart_on_fatal_(config.supervision.on_fatal == connect::OnFatal::restart),
      restart_backoff_(std::make_shared<Backoff>(
          std::chrono::milliseconds(config.supervision.restart_backoff_ms),
          std::chrono::milliseconds(config.supervision.max_restart_backoff_ms), 2.0, true,
          config.supervision.max_restarts)) {}

std::string SupervisionState::state_name() const {
  switch (phase_) {
    case Phase::starting:
      return after_restart_ ? "restarting" : "starting";
    case Phase::running:
      return paused_ ? "paused" : "running";
    case Phase::restart_pending:
      return "restarting";
    case Phase::draining:
      return "draining";
    case Phase::finished:
      return failed_ ? "failed" : "stopped";
  }
  return "unknown";
}

void SupervisionState::set_starting(const RuntimeContext& context) {
  if (phase_ == Phase::restart_pending) {
    phase_ = Phase::starting;
    after_restart_ = true;
  }
  context.health->set_started(false);
}

void SupervisionState::set_running(const RuntimeContext& context) {
  if (phase_ != Phase::starting) return;  // draining or finished meanwhile
  phase_ = Phase::running;
  after_restart_ = false;
  unresolved_.reset();
  context.health->clear_failed();
  context.health->set_started(true);
  context.metrics->set_health(services::HealthStatus::healthy);
  spdlog::info("event=runtime_running connector={} restarts={}", context.config.connector_name,
               restarts_);
}

SupervisionState::Decision SupervisionState::on_failure(const RuntimeContext& context,
                                                        const connect::ConnectorError& error,
                                                        const std::string& where,
                                                        FailureOrigin origin,
                                                        Clock::time_point now) {
  if (phase_ == Phase::finished || phase_ == Phase::restart_pending) return Decision::ignore;
  last_error_ = where + ": " + error.what();
  last_error_unix_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  unresolved_ = error;
  spdlog::error("event=connector_failed connector={} where=\"{}\" kind={} error=\"{}\"",
                context.config.connector_name, where, connect::to_string(error.kind()),
                error.what());
  context.health->mark_failed(last_error_);
  context.metrics->set_health(services::HealthStatus::unhealthy);

  if (phase_ == Phase::draining) return Decision::stop;
  // A configuration error comes back the same on every restart: stop and say so.
  if (error.kind() == connect::ErrorKind::configuration) return Decision::stop;
  if (origin == FailureOrigin::connector && !restart_on_fatal_) return Decision::stop;

  while (!recent_restarts_.empty() && now - recent_restarts_.front() >= restart_window_) {
    recent_restarts_.pop_front();
  }
  if (recent_restarts_.size() >= max_restarts_) {
    spdlog::error("event=restart_budget_exhausted connector={} restarts_in_window={} window_ms={}",
                  context.config.connector_name, recent_restarts_.size(), restart_window_.count());
    return Decision::stop;
  }
  recent_restarts_.push_back(now);
  ++restarts_;
  phase_ = Phase::restart_pending;
  return Decision::restart;
}

std::chrono::milliseconds SupervisionState::next_restart_delay() {
  const auto attempt = static_cast<std::uint32_t>(recent_restarts_.size());
  const auto delay = restart_backoff_->delay(std::max<std::uint32_t>(1, attempt));
  spdlog::info("event=restart_scheduled attempt={} restarts={} delay_ms={}", attempt, restarts_,
               delay.count());
  return delay;
}

bool SupervisionState::begin_drain(const RuntimeContext& context,
                                   caf::typed_response_promise<RuntimeStatus> promise) {
  if (phase_ == Phase::finished) {
    promise.deliver(status(context));
    return false;
  }
  drain_waiters_.push_back(std::move(promise));
  if (phase_ == Phase::draining) return false;
  phase_ = Phase::draining;
  context.health->set_stopping(true);
  spdlog::info("event=drain_started connector={} timeout_ms={}", context.config.connector_name,
               context.config.shutdown.timeout_ms);
  return true;
}

std::optional<connect::ConnectorError> SupervisionState::unresolved_failure() const {
  return unresolved_;
}

void SupervisionState::mark_incomplete(const std::string& step) {
  incomplete_steps_.push_back(step);
}

void SupervisionState::finish(caf::scheduled_actor* self, const RuntimeContext& context,
                              const std::optional<connect::ConnectorError>& failure,
                              const std::vector<caf::actor_addr>& children) {
  if (phase_ == Phase::finished) return;
  phase_ = Phase::finished;
  failed_ = failure.has_value();
  context.health->set_started(false);
  context.metrics->set_health(false);
  const RuntimeStatus final_status = status(context);
  spdlog::info(
      "event=runtime_stopped connector={} state={} received={} processed={} "
      "dead_lettered={} lost={} redeliveries_skipped={} restarts={} incomplete=\"{}\"",
      context.config.connector_name, final_status.state, final_status.received,
      final_status.processed, final_status.dead_lettered, final_status.lost,
      final_status.redeliveries_skipped, final_status.restarts, join(incomplete_steps_));
  for (auto& waiter : drain_waiters_)
    waiter.deliver(final_status);
  drain_waiters_.clear();
  for (const auto& child : children) {
    if (child != nullptr) self->send_exit(child, caf::exit_reason::user_shutdown);
  }
  if (failure) {
    self->quit(failure_exit_reason(*failure));
  } else if (!incomplete_steps_.empty()) {
    self->quit(drain_incomplete_exit_reason(join(incomplete_steps_)));
  } else {
    self->quit();
  }
}

bool SupervisionState::set_paused(const RuntimeContext& context, bool paused) {
  if (phase_ == Phase::draining || phase_ == Phase::finished) return false;
  if (paused_ == paused) return true;
  paused_ = paused;
  context.health->set_paused(paused);
  spdlog::info("event={} connector={} state={}", paused ? "intake_paused" : "intake_resumed",
               context.config.connector_name, state_name());
  return true;
}

RuntimeStatus SupervisionState::status(const RuntimeContext& context) const {
  RuntimeStatus status;
  status.connector = context.config.connector_name;
  status.kind = kind_;
  status.state = state_name();
  status.paused = paused_;
  status.restarts = restarts_;
  status.last_error = last_error_;
  status.last_error_unix_ms = last_error_unix_ms_;
  status.complete = incomplete_steps_.empty();
  context.counters->fill(status);
  const auto held = context.counters->held_by_topic();
  for (const auto& totals : context.metrics->topic_totals()) {
    if (totals.topic.empty()) continue;  // poll and commit failures: in /metrics only
    TopicStatus topic;
    topic.topic = totals.topic;
    topic.received = totals.received;
    topic.processed = totals.processed;
    topic.acked = totals.acked;
    topic.failed = totals.failed;
    topic.retried = totals.retried;
    topic.dead_lettered = totals.dead_lettered;
    topic.lost = totals.lost;
    topic.redeliveries_skipped = totals.redeliveries_skipped;
    topic.in_flight = totals.inflight;
    if (const auto found = held.find(totals.topic); found != held.end()) topic.held = found->second;
    status.topics.push_back(std::move(topic));
  }
  return status;
}

caf::atom_value runtime_error_category() {
  return kRuntimeErrorCategory;
}

caf::error failure_exit_reason(const connect::ConnectorError& error) {
  const auto code =
      static_cast<std::uint8_t>(static_cast<std::uint8_t>(RuntimeExit::connector_failed) |
                                (static_cast<std::uint8_t>(error.kind()) << kKindShift));
  return caf::error(code, kRuntimeErrorCategory, caf::make_message(std::string(error.what())));
}

caf::error drain_incomplete_exit_reason(const std::string& what) {
  return caf::error(
      static_cast<std::uint8_t>(RuntimeExit::drain_incomplete), kRuntimeErrorCategory,
      caf::make_message("the drain did not finish within [shutdown] timeout_ms: " + what));
}

std::optional<connect::ErrorKind> failure_kind(const caf::error& reason) {
  if (reason.category() != kRuntimeErrorCategory ||
      (reason.code() & kExitMask) != static_cast<std::uint8_t>(RuntimeExit::connector_failed)) {
    return std::nullopt;
  }
  return static_cast<connect::ErrorKind>(reason.code() >> kKindShift);
}

bool is_drain_incomplete(const caf::error& reason) {
  return reason.category() == kRuntimeErrorCategory &&
         (reason.code() & kExitMask) == static_cast<std::uint8_t>(RuntimeExit::drain_incomplete);
}

std::string render_runtime_error(std::uint8_t code, caf::atom_value, const caf::message& context) {
  std::string text = (code & kExitMask) == static_cast<std::uint8_t>(RuntimeExit::drain_incomplete)
                         ? "drain_incomplete"
                         : "connector_failed(" +
                               std::string(connect::to_string(
                                   static_cast<connect::ErrorKind>(code >> kKindShift))) +
                               ")";
  if (context.match_elements<std::string>()) text += ": " + context.get_as<std::string>(0);
  return text;
}

}  // namespace danube::runtime
