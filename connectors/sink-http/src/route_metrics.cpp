#include "route_metrics.hpp"

namespace danube::sink_http {

namespace {

constexpr std::array<const char*, 6> kAnswerClasses = {"2xx", "3xx", "4xx", "429", "5xx", "error"};

std::size_t answer_class(const HttpResponse& response) {
  if (!response.answered()) return 5;
  if (response.status == 429) return 3;
  if (response.status >= 500) return 4;
  if (response.status >= 400) return 2;
  if (response.status >= 300) return 1;
  return 0;
}

}  // namespace

RouteMetrics RouteMetrics::create(connect::Metrics& metrics, const std::string& topic) {
  RouteMetrics route;
  for (std::size_t i = 0; i < kAnswerClasses.size(); ++i) {
    route.requests[i] = &metrics.counter("http_sink_requests_total",
                                         "HTTP requests by answer class (error: no answer)",
                                         {{"topic", topic}, {"status", kAnswerClasses[i]}});
  }
  route.records_delivered =
      &metrics.counter("http_sink_records_delivered_total", "Records the endpoint accepted (2xx)",
                       {{"topic", topic}});
  route.records_rejected = &metrics.counter(
      "http_sink_records_rejected_total",
      "Records the endpoint refused for good (4xx): handed to the dead-letter policy",
      {{"topic", topic}});
  route.records_returned = &metrics.counter(
      "http_sink_records_returned_total",
      "Records handed back to the runtime for a later retry after the connector's own retries",
      {{"topic", topic}});
  route.retries = &metrics.counter("http_sink_request_retries_total",
                                   "Requests sent again by the connector (5xx, 429, timeouts)",
                                   {{"topic", topic}});
  route.request_seconds = &metrics.histogram(
      "http_sink_request_duration_seconds", "Time from sending a request to its answer",
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
      {{"topic", topic}});
  return route;
}

void RouteMetrics::count_answer(const HttpResponse& response) {
  requests[answer_class(response)]->increment();
  request_seconds->observe(response.elapsed.count());
}

connect::Gauge& requests_in_flight_gauge(connect::Metrics& metrics) {
  return metrics.gauge("http_sink_requests_in_flight", "HTTP requests waiting for their answer");
}

}  // namespace danube::sink_http
