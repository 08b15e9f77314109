#pragma once

// The connector's own metrics of one route, labelled with its Danube topic.
#include <array>
#include <string>

#include "danube/connect/metric_handles.hpp"
#include "http_client.hpp"

namespace danube::sink_http {

struct RouteMetrics {
  // By answer class: 2xx, 3xx, 4xx, 429, 5xx, or "error" (no answer: refused, timeout, TLS).
  std::array<connect::Counter*, 6> requests{};
  connect::Counter* records_delivered = nullptr;
  connect::Counter* records_rejected = nullptr;  // refused for good: dead-lettered
  connect::Counter* records_returned = nullptr;  // handed back to the runtime as retryable
  connect::Counter* retries = nullptr;           // requests sent again by the connector
  connect::Histogram* request_seconds = nullptr;

  static RouteMetrics create(connect::Metrics& metrics, const std::string& topic);
  void count_answer(const HttpResponse& response);
};

// Process-wide: requests waiting for their answer.
connect::Gauge& requests_in_flight_gauge(connect::Metrics& metrics);

}  // namespace danube::sink_http
