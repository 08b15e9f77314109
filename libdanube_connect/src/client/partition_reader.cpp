#include "partition_reader.hpp"

#include <spdlog/spdlog.h>

#include "proto_conversions.hpp"
#include "release_guard.hpp"

namespace danube::client::detail {

PartitionReader::PartitionReader(std::shared_ptr<ClientCore> client, const ConsumerOptions& options,
                                 std::string partition_topic, std::size_t index,
                                 ReceiveBuffer& buffer, ConsumerCounters& counters)
    : client_(std::move(client)),
      options_(options),
      topic_(std::move(partition_topic)),
      index_(index),
      buffer_(buffer),
      counters_(counters) {}

PartitionReader::~PartitionReader() {
  stop();
}

PartitionEndpoint PartitionReader::endpoint() const {
  std::lock_guard lock(mutex_);
  return endpoint_;
}

Status PartitionReader::subscribe_once() {
  const BrokerAddress address = client_->resolve_topic(topic_, &stop_);
  auto connection = client_->connection(address.connect_url);

  danube::ConsumerRequest request;
  request.set_request_id(client_->next_request_id());
  request.set_topic_name(topic_);
  request.set_consumer_name(options_.consumer_name);
  request.set_subscription(options_.subscription);
  request.set_subscription_type(to_proto(options_.type));
  for (const auto& filter : options_.key_filters)
    request.add_key_filters(filter);

  if (const grpc::Status connected =
          client_->await_connection(*connection->channel, address.connect_url, &stop_);
      !connected.ok()) {
    return to_error("Subscribe " + topic_, connected);
  }
  grpc::ClientContext context;
  client_->prepare(context, &address);
  danube::ConsumerResponse response;
  grpc::Status status;
  {
    const Cancellation::Tracked tracked(&stop_, context);
    status = connection->consumer.Subscribe(&context, request, &response);
  }
  if (stopping()) return Error(ErrorCategory::cancelled, 0, "consumer closed");
  if (!status.ok()) return to_error("Subscribe " + topic_, status);
  std::lock_guard lock(mutex_);
  endpoint_ = PartitionEndpoint{response.consumer_id(), address, std::move(connection)};
  spdlog::debug(
      "component=danube_consumer event=subscribed topic={} subscription={} consumer_id={}", topic_,
      options_.subscription, response.consumer_id());
  return Done{};
}

Status PartitionReader::subscribe() {
  const RetryPolicy& policy = client_->options().retry;
  for (std::uint32_t attempt = 0;; ++attempt) {
    Status status = subscribe_once();
    if (status || !status.error().is_retryable() || attempt >= policy.max_retries) return status;
    if (!stop_.sleep_for(client_->backoff().delay(attempt + 1))) {
      return Error(ErrorCategory::cancelled, 0, "consumer closed");
    }
  }
}

void PartitionReader::start() {
  thread_ = std::thread([this] {
    // This thread may run the application's ready callback; whatever it releases that owns
    // channels or joins this thread must be released elsewhere.
    const ReleaseRestriction restriction;
    run();
  });
}

void PartitionReader::request_resubscribe() {
  std::lock_guard lock(mutex_);
  resubscribe_requested_ = true;
  if (stream_context_ != nullptr) stream_context_->TryCancel();
}

void PartitionReader::stop() {
  stop_.cancel();
  {
    std::lock_guard lock(mutex_);
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void PartitionReader::run() {
  std::uint32_t failures = 0;
  bool needs_subscribe = false;
  while (!stopping()) {
    if (needs_subscribe) {
      Status status = subscribe();
      if (!status) {
        if (stopping()) break;
        ++failures;
        spdlog::warn("component=danube_consumer event=resubscribe_failed topic={} error=\"{}\"",
                     topic_, status.error().to_string());
        if (!stop_.sleep_for(client_->backoff().delay(failures))) break;
        continue;
      }
      counters_.resubscribes.fetch_add(1, std::memory_order_relaxed);
      needs_subscribe = false;
    }

    PartitionEndpoint endpoint;
    grpc::ClientContext context;
    {
      std::lock_guard lock(mutex_);
      if (stopping()) break;
      endpoint = endpoint_;
      stream_context_ = &context;
    }
    // A stream has no deadline: it lives as long as the subscription.
    client_->prepare(context, &endpoint.address, std::chrono::milliseconds(0));
    danube::ReceiveRequest request;
    request.set_request_id(client_->next_request_id());
    request.set_consumer_id(endpoint.consumer_id);
    auto reader = endpoint.connection->consumer.ReceiveMessages(&context, request);

    bool received_any = false;
    danube::StreamMessage message;
    while (true) {
      if (!buffer_.wait_for_room()) {
        context.TryCancel();  // the consumer is closing
        break;
      }
      if (!reader->Read(&message)) break;
      received_any = true;
      ReceivedMessage received = to_received_message(std::move(message));
      received.topic = options_.topic;
      received.partition = index_;
      counters_.received.fetch_add(1, std::memory_order_relaxed);
      buffer_.push_now(std::move(received));
      message.Clear();
    }
    const grpc::Status status = reader->Finish();
    bool resubscribe = false;
    {
      std::lock_guard lock(mutex_);
      stream_context_ = nullptr;
      if (stopping()) break;
      resubscribe = resubscribe_requested_;
      resubscribe_requested_ = false;
    }
    counters_.stream_reopens.fetch_add(1, std::memory_order_relaxed);
    if (received_any) failures = 0;
    if (resubscribe) {
      needs_subscribe = true;
      continue;
    }
    const grpc::StatusCode code = status.error_code();
    if (code == grpc::StatusCode::NOT_FOUND) {
      // The broker does not know this consumer id any more (it restarted): subscribe again.
      needs_subscribe = true;
      continue;
    }
    ++failures;
    if (!status.ok()) {
      spdlog::debug("component=danube_consumer event=stream_ended topic={} code={} error=\"{}\"",
                    topic_, static_cast<int>(code), status.error_message());
    }
    if (!status.ok() && !is_retryable_code(code) && code != grpc::StatusCode::CANCELLED) {
      spdlog::warn("component=danube_consumer event=stream_failed topic={} error=\"{}\"", topic_,
                   to_error("ReceiveMessages " + topic_, status).to_string());
      needs_subscribe = true;
    } else if (failures > client_->options().retry.max_retries) {
      needs_subscribe = true;
    }
    if (!received_any && !stop_.sleep_for(client_->backoff().delay(failures))) break;
  }
}

}  // namespace danube::client::detail
