#include "batch_delivery.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string_view>

#include "danube/connect/error.hpp"
#include "request_auth.hpp"
#include "request_body.hpp"
#include "response_policy.hpp"

namespace danube::sink_http {

namespace {

using Clock = std::chrono::steady_clock;
using connect::BatchResult;
using connect::ConnectorError;
using connect::SinkRecord;

// Without a transfer to finish, the loop still wakes this often to start delayed retries.
constexpr std::chrono::milliseconds kLongestWait{250};

// Records of one partition of one route that travel in one request.
struct PendingRequest {
  std::vector<std::size_t> records;  // indices into the batch, in order
  std::uint32_t retries = 0;
  Clock::time_point not_before{};
};

struct Lane {
  std::size_t route = 0;  // index into routes_
  std::deque<PendingRequest> queue;
  std::size_t in_flight = 0;
  std::size_t limit = 1;  // requests of this lane at once: 1 keeps the partition's order
};

struct InFlightRequest {
  std::size_t lane = 0;
  PendingRequest request;
};

}  // namespace

// One call of deliver(): the state of a batch on its way out.
struct BatchDelivery::Impl {
  BatchDelivery& owner;
  std::span<const SinkRecord> records;
  BatchResult result;
  std::vector<std::string> encoded;  // per record
  std::vector<Lane> lanes;
  std::vector<std::size_t> route_in_flight;
  std::map<std::uint64_t, InFlightRequest> in_flight;
  std::uint64_t next_tag = 1;

  Impl(BatchDelivery& delivery, std::span<const SinkRecord> batch)
      : owner(delivery),
        records(batch),
        result(batch.size()),
        encoded(batch.size()),
        route_in_flight(delivery.routes_.size(), 0) {}

  const Route& route_of(const Lane& lane) const { return *owner.routes_[lane.route].route; }
  RouteMetrics& metrics_of(const Lane& lane) const { return *owner.routes_[lane.route].metrics; }

  std::optional<std::size_t> route_index(const std::string& topic) const {
    for (std::size_t i = 0; i < owner.routes_.size(); ++i) {
      if (owner.routes_[i].route->consumer.topic == topic) return i;
    }
    return std::nullopt;
  }

  // Encodes every record, drops those that cannot be encoded (invalid_data), and queues the
  // rest in per-partition lanes, chunked into requests.
  void plan() {
    std::map<std::pair<std::size_t, std::string>, std::vector<std::size_t>> by_partition;
    std::vector<std::pair<std::size_t, std::string>> lane_order;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const SinkRecord& record = records[i];
      const auto route = route_index(record.topic());
      if (!route) {
        result.fail(i, ConnectorError::invalid_data("no [[http_sink.routes]] entry for topic " +
                                                    record.topic()));
        continue;
      }
      try {
        encoded[i] = encode_record(owner.routes_[*route].route->body_format, record);
      } catch (const ConnectorError& error) {
        result.fail(i, ConnectorError::invalid_data(
                           "record is not JSON, which body_format " +
                           std::string(to_string(owner.routes_[*route].route->body_format)) +
                           " needs: " + error.message()));
        owner.routes_[*route].metrics->records_rejected->increment();
        continue;
      }
      auto key = std::make_pair(*route, record.partition_topic());
      auto [entry, inserted] = by_partition.try_emplace(key);
      if (inserted) lane_order.push_back(key);
      entry->second.push_back(i);
    }
    for (const auto& key : lane_order) {
      const auto& indices = by_partition[key];
      const Route& route = *owner.routes_[key.first].route;
      Lane lane;
      lane.route = key.first;
      lane.limit = route.ordering == RequestOrdering::strict ? 1 : route.max_concurrency;
      std::vector<std::size_t> sizes;
      sizes.reserve(indices.size());
      for (const std::size_t index : indices)
        sizes.push_back(encoded[index].size());
      std::size_t next = 0;
      for (const std::size_t count : chunk_sizes(route, sizes)) {
        PendingRequest request;
        request.records.assign(indices.begin() + static_cast<std::ptrdiff_t>(next),
                               indices.begin() + static_cast<std::ptrdiff_t>(next + count));
        next += count;
        lane.queue.push_back(std::move(request));
      }
      lanes.push_back(std::move(lane));
    }
  }

  HttpRequest build_request(const Lane& lane, const PendingRequest& pending, std::uint64_t tag) {
    const Route& route = route_of(lane);
    std::vector<std::string_view> elements;
    elements.reserve(pending.records.size());
    for (const std::size_t index : pending.records)
      elements.push_back(encoded[index]);

    HttpRequest request;
    request.tag = tag;
    request.method = route.method;
    request.url = route.url;
    request.body = join_body(route.body_format, elements);
    request.timeout = route.request_timeout;
    request.connect_timeout = route.connect_timeout;
    request.ca_file = route.tls_ca_file;
    request.verify_tls = route.tls_verify;
    request.headers.push_back("Content-Type: " + route.content_type);
    for (const auto& [name, value] : route.headers)
      request.headers.push_back(name + ": " + value);
    if (route.metadata_headers) add_metadata_headers(pending, request.headers);
    for (auto& header : authentication_headers(route.auth, request.body)) {
      request.headers.push_back(std::move(header));
    }
    return request;
  }

  // Where the records come from, so the endpoint can order, trace and deduplicate them: the same
  // records sent again (after a timeout, a crash) carry the same Idempotency-Key.
  void add_metadata_headers(const PendingRequest& pending, std::vector<std::string>& headers) {
    const SinkRecord& first = records[pending.records.front()];
    const SinkRecord& last = records[pending.records.back()];
    headers.push_back("X-Danube-Topic: " + first.topic());
    headers.push_back("X-Danube-Partition-Topic: " + first.partition_topic());
    headers.push_back("X-Danube-Offset: " + std::to_string(first.offset()));
    headers.push_back("X-Danube-Record-Count: " + std::to_string(pending.records.size()));
    std::string key = first.partition_topic() + "@" + std::to_string(first.offset());
    if (pending.records.size() > 1) key += "-" + std::to_string(last.offset());
    headers.push_back("Idempotency-Key: " + key);
    if (pending.records.size() == 1) {
      headers.push_back("X-Danube-Publish-Time: " + std::to_string(first.publish_time_us()));
      if (first.routing_key() && first.routing_key()->find_first_of("\r\n") == std::string::npos) {
        headers.push_back("X-Danube-Routing-Key: " + *first.routing_key());
      }
    }
  }

  // Starts every request allowed now: its lane and route have room and its time has come.
  void start_ready(Clock::time_point now) {
    bool started = true;
    while (started) {
      started = false;
      for (std::size_t i = 0; i < lanes.size(); ++i) {
        Lane& lane = lanes[i];
        if (lane.queue.empty() || lane.in_flight >= lane.limit) continue;
        if (route_in_flight[lane.route] >= route_of(lane).max_concurrency) continue;
        if (lane.queue.front().not_before > now) continue;
        PendingRequest pending = std::move(lane.queue.front());
        lane.queue.pop_front();
        const std::uint64_t tag = next_tag++;
        owner.client_.start(build_request(lane, pending, tag));
        ++lane.in_flight;
        ++route_in_flight[lane.route];
        owner.in_flight_.increment();
        in_flight.emplace(tag, InFlightRequest{i, std::move(pending)});
        started = true;
      }
    }
  }

  bool work_left() const {
    return !in_flight.empty() || std::any_of(lanes.begin(), lanes.end(),
                                             [](const Lane& lane) { return !lane.queue.empty(); });
  }

  std::chrono::milliseconds next_wait(Clock::time_point now) const {
    auto wait = kLongestWait;
    for (const Lane& lane : lanes) {
      if (lane.queue.empty()) continue;
      const auto until =
          std::chrono::ceil<std::chrono::milliseconds>(lane.queue.front().not_before - now);
      wait = std::clamp(until, std::chrono::milliseconds(0), wait);
    }
    return wait;
  }

  void on_response(const HttpResponse& response) {
    const auto found = in_flight.find(response.tag);
    if (found == in_flight.end()) return;
    InFlightRequest done = std::move(found->second);
    in_flight.erase(found);
    Lane& lane = lanes[done.lane];
    --lane.in_flight;
    --route_in_flight[lane.route];
    owner.in_flight_.decrement();
    const Route& route = route_of(lane);
    RouteMetrics& metrics = metrics_of(lane);
    metrics.count_answer(response);
    const Classification outcome = classify(response, route.method, route.loggable_url);
    switch (outcome.verdict) {
      case Verdict::delivered:
        metrics.records_delivered->increment(static_cast<double>(done.request.records.size()));
        break;
      case Verdict::reject:
        reject(lane, std::move(done.request), outcome);
        break;
      case Verdict::retry:
        retry_or_return(lane, std::move(done.request), outcome);
        break;
    }
  }

  void reject(Lane& lane, PendingRequest request, const Classification& outcome) {
    const Route& route = route_of(lane);
    if (request.records.size() > 1 && route.split_rejected_batches) {
      // Which record did the endpoint refuse? Ask it one record at a time, in order.
      owner.logger_.warn("http_batch_rejected_splitting", {{"topic", route.consumer.topic},
                                                           {"records", request.records.size()},
                                                           {"error", outcome.description}});
      for (auto index = request.records.rbegin(); index != request.records.rend(); ++index) {
        PendingRequest single;
        single.records = {*index};
        lane.queue.push_front(std::move(single));
      }
      return;
    }
    owner.logger_.warn("http_records_rejected", {{"topic", route.consumer.topic},
                                                 {"records", request.records.size()},
                                                 {"error", outcome.description}});
    metrics_of(lane).records_rejected->increment(static_cast<double>(request.records.size()));
    for (const std::size_t index : request.records) {
      result.fail(index, ConnectorError::invalid_data(outcome.description));
    }
  }

  void retry_or_return(Lane& lane, PendingRequest request, const Classification& outcome) {
    const Route& route = route_of(lane);
    const bool waits_too_long =
        outcome.retry_after && *outcome.retry_after > route.retry.max_retry_after;
    if (request.retries < route.retry.attempts && !waits_too_long) {
      ++request.retries;
      const auto delay =
          outcome.retry_after.value_or(backoff_delay(route.retry, request.retries, owner.random_));
      request.not_before = Clock::now() + delay;
      owner.logger_.debug("http_request_retrying", {{"topic", route.consumer.topic},
                                                    {"retry", request.retries},
                                                    {"delay_ms", delay.count()},
                                                    {"error", outcome.description}});
      metrics_of(lane).retries->increment();
      lane.queue.push_front(std::move(request));
      return;
    }
    owner.logger_.warn("http_records_returned_for_retry", {{"topic", route.consumer.topic},
                                                           {"records", request.records.size()},
                                                           {"retries", request.retries},
                                                           {"error", outcome.description}});
    metrics_of(lane).records_returned->increment(static_cast<double>(request.records.size()));
    for (const std::size_t index : request.records) {
      result.fail(index, ConnectorError::retryable(outcome.description));
    }
    if (route.ordering == RequestOrdering::strict) {
      // The later records of this partition must not overtake these: the runtime hands them
      // over again after the failed ones.
      for (const PendingRequest& later : lane.queue) {
        for (const std::size_t index : later.records)
          result.defer(index);
      }
      lane.queue.clear();
    }
  }

  void run() {
    plan();
    while (true) {
      start_ready(Clock::now());
      if (!work_left()) break;
      for (const HttpResponse& response : owner.client_.wait(next_wait(Clock::now()))) {
        on_response(response);
      }
    }
  }
};

BatchDelivery::BatchDelivery(HttpClient& client, std::vector<RouteTarget> routes,
                             connect::Logger& logger, connect::Gauge& in_flight)
    : client_(client),
      routes_(std::move(routes)),
      logger_(logger),
      in_flight_(in_flight),
      random_(std::random_device{}()) {}

connect::BatchResult BatchDelivery::deliver(std::span<const connect::SinkRecord> records) {
  Impl batch(*this, records);
  batch.run();
  return std::move(batch.result);
}

}  // namespace danube::sink_http
