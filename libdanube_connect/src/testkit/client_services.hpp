#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "broker_core.hpp"
#include "change_signal.hpp"
#include "receive_stream.hpp"
#include "request_gate.hpp"
#include "timer_queue.hpp"

namespace danube::testkit::internal {

// What the gRPC service classes share.
struct ServiceDeps {
  BrokerCore& core;
  RequestGate& gate;
  StreamRegistry& streams;
  TimerQueue& timers;
  ChangeSignal& signal;
};

// The callback-API implementations of every client-facing service (danube.ProducerService,
// ConsumerService, Discovery, HealthCheck, StorageService and danube_schema.SchemaRegistry).
// Each handler is a thin adapter: RequestGate first, then one BrokerCore call.
class ClientServices {
 public:
  explicit ClientServices(ServiceDeps deps);
  ~ClientServices();
  ClientServices(const ClientServices&) = delete;
  ClientServices& operator=(const ClientServices&) = delete;

  // The services to register on the server; owned by this object, which must outlive it.
  std::vector<grpc::Service*> services() const;

 private:
  struct Services;
  std::unique_ptr<Services> services_;
};

}  // namespace danube::testkit::internal
