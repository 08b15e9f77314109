#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "change_signal.hpp"
#include "danube/testkit/embedded_broker.hpp"
#include "timer_queue.hpp"

namespace danube::testkit::internal {

// What every rpc passes before the broker looks at it: the shutdown check, JWT authentication
// and the injected faults (failures and latency).
//
// The fault state is one small record per rpc; when no fault is set, admit() reads two atomics.
class RequestGate {
 public:
  RequestGate(std::optional<std::string> jwt_secret, TimerQueue& timers, ChangeSignal& signal);

  void fail_next(Rpc rpc, int count, int grpc_status_code, std::string message);
  void set_latency(Rpc rpc, std::chrono::milliseconds latency);
  std::chrono::milliseconds latency(Rpc rpc) const;
  std::size_t delayed_calls() const;

  void open();
  // New calls get UNAVAILABLE; unary calls waiting out injected latency end with UNAVAILABLE now.
  void close();

  // nullopt: go ahead; otherwise the status to end the call with. `rpc` is nullopt for rpcs
  // fault injection does not target (StorageService); authentication still applies.
  std::optional<grpc::Status> admit(grpc::CallbackServerContext* context, std::optional<Rpc> rpc);

  // A unary call: admit, then run `handler` now or after the injected latency, and finish the
  // call with its status. `handler` fills the response.
  grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, std::optional<Rpc> rpc,
                                  std::function<grpc::Status()> handler);

 private:
  static constexpr std::size_t kRpcCount = static_cast<std::size_t>(Rpc::schema_registry) + 1;
  struct Fault {
    std::atomic<int> remaining{0};  // read without the mutex on every call
    std::mutex mutex;
    grpc::StatusCode code = grpc::StatusCode::UNAVAILABLE;
    std::string message;
  };
  struct DeferredCall {
    grpc::ServerUnaryReactor* reactor = nullptr;
    grpc::CallbackServerContext* context = nullptr;
    std::function<grpc::Status()> handler;
  };

  std::optional<grpc::Status> authenticate(const grpc::CallbackServerContext* context) const;
  void run_deferred(std::uint64_t id);
  static grpc::Status run_guarded(const std::function<grpc::Status()>& handler);

  const std::optional<std::string> jwt_secret_;
  TimerQueue& timers_;
  ChangeSignal& signal_;
  std::array<Fault, kRpcCount> faults_;
  std::array<std::atomic<std::int64_t>, kRpcCount> latency_ms_{};
  std::atomic<bool> open_{false};

  mutable std::mutex deferred_mutex_;
  std::unordered_map<std::uint64_t, DeferredCall> deferred_;
  std::uint64_t next_deferred_id_ = 1;
};

}  // namespace danube::testkit::internal
