#include "request_gate.hpp"

#include <spdlog/spdlog.h>

#include <variant>
#include <vector>

#include "jwt.hpp"

namespace danube::testkit::internal {
namespace {

std::size_t index_of(Rpc rpc) {
  return static_cast<std::size_t>(rpc);
}

}  // namespace

RequestGate::RequestGate(std::optional<std::string> jwt_secret, TimerQueue& timers,
                         ChangeSignal& signal)
    : jwt_secret_(std::move(jwt_secret)), timers_(timers), signal_(signal) {}

std::size_t RequestGate::delayed_calls() const {
  std::lock_guard lock(deferred_mutex_);
  return deferred_.size();
}

void RequestGate::fail_next(Rpc rpc, int count, int grpc_status_code, std::string message) {
  Fault& fault = faults_[index_of(rpc)];
  std::lock_guard lock(fault.mutex);
  fault.code = static_cast<grpc::StatusCode>(grpc_status_code);
  fault.message = std::move(message);
  fault.remaining = count > 0 ? count : 0;
}

void RequestGate::set_latency(Rpc rpc, std::chrono::milliseconds latency) {
  latency_ms_[index_of(rpc)] = latency.count() > 0 ? latency.count() : 0;
}

std::chrono::milliseconds RequestGate::latency(Rpc rpc) const {
  return std::chrono::milliseconds(latency_ms_[index_of(rpc)].load());
}

void RequestGate::open() {
  open_ = true;
}

void RequestGate::close() {
  open_ = false;
  std::unordered_map<std::uint64_t, DeferredCall> pending;
  {
    std::lock_guard lock(deferred_mutex_);
    pending.swap(deferred_);
  }
  for (auto& [id, call] : pending) {
    call.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down"));
  }
  signal_.notify();
}

std::optional<grpc::Status> RequestGate::authenticate(
    const grpc::CallbackServerContext* context) const {
  if (!jwt_secret_) return std::nullopt;
  const auto& metadata = context->client_metadata();
  const auto header = metadata.find("authorization");
  if (header == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing 'authorization: Bearer <jwt>' metadata");
  }
  const std::string_view value(header->second.data(), header->second.size());
  std::string_view token;
  for (const std::string_view prefix : {"Bearer ", "bearer "}) {
    if (value.substr(0, prefix.size()) == prefix) token = value.substr(prefix.size());
  }
  if (token.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization metadata must be 'Bearer <jwt>'");
  }
  const auto verified = verify_hs256_jwt(token, *jwt_secret_, std::chrono::system_clock::now());
  if (const auto* error = std::get_if<std::string>(&verified)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid token: " + *error);
  }
  return std::nullopt;
}

std::optional<grpc::Status> RequestGate::admit(grpc::CallbackServerContext* context,
                                               std::optional<Rpc> rpc) {
  if (!open_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down");
  if (auto rejected = authenticate(context)) return rejected;
  if (!rpc) return std::nullopt;
  Fault& fault = faults_[index_of(*rpc)];
  if (fault.remaining.load() == 0) return std::nullopt;
  std::lock_guard lock(fault.mutex);
  if (fault.remaining.load() == 0) return std::nullopt;
  --fault.remaining;
  return grpc::Status(fault.code, fault.message);
}

grpc::ServerUnaryReactor* RequestGate::unary(grpc::CallbackServerContext* context,
                                             std::optional<Rpc> rpc,
                                             std::function<grpc::Status()> handler) {
  auto* reactor = context->DefaultReactor();
  if (auto rejected = admit(context, rpc)) {
    reactor->Finish(*rejected);
    return reactor;
  }
  const auto delay = rpc ? latency(*rpc) : std::chrono::milliseconds(0);
  if (delay.count() == 0) {
    reactor->Finish(run_guarded(handler));
    return reactor;
  }
  std::uint64_t id = 0;
  {
    std::lock_guard lock(deferred_mutex_);
    id = next_deferred_id_++;
    deferred_.emplace(id, DeferredCall{reactor, context, std::move(handler)});
  }
  signal_.notify();
  timers_.schedule_after(delay, [this, id] { run_deferred(id); });
  return reactor;
}

void RequestGate::run_deferred(std::uint64_t id) {
  DeferredCall call;
  {
    std::lock_guard lock(deferred_mutex_);
    const auto found = deferred_.find(id);
    if (found == deferred_.end()) return;  // close() already finished it
    call = std::move(found->second);
    deferred_.erase(found);
  }
  signal_.notify();
  if (call.context->IsCancelled()) {
    call.reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled while delayed"));
    return;
  }
  call.reactor->Finish(run_guarded(call.handler));
}

grpc::Status RequestGate::run_guarded(const std::function<grpc::Status()>& handler) {
  // An exception escaping a gRPC callback would terminate the process; a handler that throws
  // (an I/O error persisting state, say) fails its call instead.
  try {
    return handler();
  } catch (const std::exception& error) {
    spdlog::error("event=rpc_handler_failed error=\"{}\"", error.what());
    return grpc::Status(grpc::StatusCode::INTERNAL, error.what());
  }
}

}  // namespace danube::testkit::internal
