#include "http_sink.hpp"

#include <numeric>

namespace danube::sink_http {

HttpSink::HttpSink(EnvironmentLookup environment) : environment_(std::move(environment)) {}

void HttpSink::initialize(const connect::ConnectorContext& context) {
  // A supervised restart may initialize this object again: start from nothing.
  delivery_.reset();
  client_.reset();
  route_metrics_.clear();
  context_ = context;
  settings_ = read_http_sink_settings(context.config(), environment_);

  // One open connection per request that may run at once, so no request waits for a
  // connection and none is opened twice.
  const std::size_t connections = std::accumulate(
      settings_.routes.begin(), settings_.routes.end(), std::size_t{0},
      [](std::size_t sum, const Route& route) { return sum + route.max_concurrency; });
  client_ = std::make_unique<HttpClient>(connections, settings_.user_agent);

  std::vector<RouteTarget> targets;
  for (const Route& route : settings_.routes) {
    route_metrics_.push_back(RouteMetrics::create(context.metrics(), route.consumer.topic));
    targets.push_back({&route, &route_metrics_.back()});
    context.logger().info(
        "http_route",
        {{"from", route.consumer.topic},
         {"to", route.loggable_url},
         {"method", route.method},
         {"body_format", to_string(route.body_format)},
         {"auth", to_string(route.auth.kind)},
         {"max_concurrency", route.max_concurrency},
         {"ordering", route.ordering == RequestOrdering::strict ? "strict" : "relaxed"},
         {"timeout_ms", route.request_timeout.count()}});
  }
  delivery_ = std::make_unique<BatchDelivery>(*client_, std::move(targets), context.logger(),
                                              requests_in_flight_gauge(context.metrics()));
}

std::vector<connect::ConsumerConfig> HttpSink::consumer_configs() {
  std::vector<connect::ConsumerConfig> consumers;
  for (const Route& route : settings_.routes)
    consumers.push_back(route.consumer);
  return consumers;
}

connect::BatchResult HttpSink::process_batch(std::span<const connect::SinkRecord> records) {
  return delivery_->deliver(records);
}

void HttpSink::shutdown() {
  // deliver() returns only once every request it started has its answer, so nothing is in
  // flight here; closing the client closes the kept-alive connections.
  delivery_.reset();
  client_.reset();
}

}  // namespace danube::sink_http
