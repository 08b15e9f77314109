#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "danube/services/health_checker.hpp"

namespace danube::services {

// What /health and /ready report. Copied out of HealthState under its lock.
struct HealthSnapshot {
  std::string connector;
  HealthStatus status = HealthStatus::healthy;
  bool started = false;    // initialize() and the subscriptions / producers succeeded
  bool connected = false;  // the broker connection is up
  bool stopping = false;   // shutdown began
  bool paused = false;     // intake paused by an operator (POST /pause): live, but not ready
  bool failed = false;     // a fatal error happened
  std::string detail;      // why degraded, unhealthy or failed (no secrets, no payloads)
  // Messages the broker skipped before this sink could receive them, since the process started.
  // Any loss makes a healthy status degraded: nothing brings the messages back, so an operator
  // must see it until the process restarts.
  std::uint64_t messages_lost = 0;
  std::chrono::steady_clock::duration uptime{};

  // Liveness: the process works (not failed and not unhealthy).
  bool live() const { return !failed && status != HealthStatus::unhealthy; }
  // Readiness: live, started, connected, not paused and not shutting down. A paused connector
  // takes no new work, so whatever routes work to it (a load balancer in front of a webhook
  // source) should send it elsewhere.
  bool ready() const { return live() && started && connected && !paused && !stopping; }
};

// The thread-safe state the runtime updates and the HTTP server reads.
class HealthState {
 public:
  explicit HealthState(std::string connector_name = {});

  void set_started(bool started);
  void set_connected(bool connected);
  void set_stopping(bool stopping);
  void set_paused(bool paused);
  void set_status(HealthStatus status, std::string detail = {});
  void record_loss(std::uint64_t messages, std::string detail);
  // Sticky until clear_failed() (a supervised restart).
  void mark_failed(std::string reason);
  void clear_failed();

  HealthSnapshot snapshot() const;
  bool live() const { return snapshot().live(); }
  bool ready() const { return snapshot().ready(); }

 private:
  mutable std::mutex mutex_;
  HealthSnapshot state_;
  std::string loss_detail_;  // the latest loss, shown while nothing worse is
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
};

}  // namespace danube::services
