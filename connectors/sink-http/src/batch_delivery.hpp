#pragma once

// Delivers one batch of records over HTTP and reports one outcome per record.
//
// The records are split into lanes, one per partition of each route. A lane sends its requests
// in order; with `ordering = "strict"` only one at a time, so the endpoint sees a partition's
// records in their order, retries included. Lanes run side by side, up to each route's
// max_concurrency requests at once, all on the calling thread through one curl multi handle.
//
// Per request: 2xx delivers its records; a 4xx (other than 408, 425, 429) refuses them for good
// (a batch is first split into single-record requests, so only the refused records fail) and
// they fail as invalid_data, to be dead-lettered; no answer, a timeout, 429 or 5xx are retried
// here after a backoff with jitter, or after the server's Retry-After, up to the route's
// retry_attempts; then the records fail as retryable, the rest of their lane is deferred, and
// the runtime retries them later with its own backoff, still in order.
#include <cstddef>
#include <random>
#include <span>
#include <vector>

#include "danube/connect/batch_result.hpp"
#include "danube/connect/logger.hpp"
#include "danube/connect/metric_handles.hpp"
#include "danube/connect/sink_record.hpp"
#include "http_client.hpp"
#include "http_sink_settings.hpp"
#include "route_metrics.hpp"

namespace danube::sink_http {

struct RouteTarget {
  const Route* route = nullptr;
  RouteMetrics* metrics = nullptr;
};

class BatchDelivery {
 public:
  // `routes` are looked up by record.topic(); everything referenced must outlive this object.
  BatchDelivery(HttpClient& client, std::vector<RouteTarget> routes, connect::Logger& logger,
                connect::Gauge& in_flight);

  connect::BatchResult deliver(std::span<const connect::SinkRecord> records);

 private:
  struct Impl;
  HttpClient& client_;
  std::vector<RouteTarget> routes_;
  connect::Logger& logger_;
  connect::Gauge& in_flight_;
  std::mt19937_64 random_;
};

}  // namespace danube::sink_http
