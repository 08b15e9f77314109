#include "consumer_core.hpp"

#include <spdlog/spdlog.h>

#include "danube/common/topic_name.hpp"
#include "proto_conversions.hpp"

namespace danube::client::detail {
namespace {

// How long close() lets acks already issued finish before cancelling them.
constexpr std::chrono::seconds kAckDrainOnClose{5};

}  // namespace

struct ConsumerCore::AckCall {
  bool positive = true;
  danube::AckRequest ack;
  danube::NackRequest nack;
  AckCallback callback;
  std::size_t reader = 0;
  std::uint32_t attempts = 0;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<danube::ConsumerService::Stub> stub;
  PartitionEndpoint endpoint;
  danube::AckResponse ack_response;
  danube::NackResponse nack_response;
};

ConsumerCore::ConsumerCore(std::shared_ptr<ClientCore> client, ConsumerOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      buffer_(options_.buffer_max_messages, options_.buffer_max_bytes) {}

ConsumerCore::~ConsumerCore() { close(); }

Result<std::shared_ptr<ConsumerCore>> ConsumerCore::create(std::shared_ptr<ClientCore> client,
                                                           ConsumerOptions options) {
  std::string why;
  if (!parse_topic_name(options.topic, &why)) {
    return Error(ErrorCategory::invalid_argument, 0,
                 "consumer topic '" + options.topic + "': " + why);
  }
  if (options.consumer_name.empty() || options.subscription.empty()) {
    return Error(ErrorCategory::invalid_argument, 0,
                 "consumer_name and subscription must not be empty");
  }
  if (options.max_in_flight_acks == 0) {
    return Error(ErrorCategory::invalid_argument, 0, "max_in_flight_acks must be at least 1");
  }
  auto partitions = client->topic_partitions(options.topic);
  if (!partitions) return partitions.error();
  if (partitions.value().empty()) {
    return Error(ErrorCategory::not_found, 0,
                 "no topic or partitions found for '" + options.topic + "'");
  }

  std::shared_ptr<ConsumerCore> core(new ConsumerCore(std::move(client), std::move(options)));
  for (std::size_t i = 0; i < partitions.value().size(); ++i) {
    const std::string& topic = partitions.value()[i];
    core->readers_.push_back(std::make_unique<PartitionReader>(
        core->client_, core->options_, topic, i, core->buffer_, core->counters_));
    core->reader_by_topic_[topic] = i;
  }
  for (auto& reader : core->readers_) {
    if (auto status = reader->subscribe(); !status) {
      core->close();
      return status.error();
    }
  }
  for (auto& reader : core->readers_) reader->start();
  core->schedule_health_check();
  return core;
}

std::vector<std::string> ConsumerCore::partitions() const {
  std::vector<std::string> topics;
  for (const auto& reader : readers_) topics.push_back(reader->topic());
  return topics;
}

void ConsumerCore::acknowledge(bool positive, std::uint64_t request_id, const MessageId& id,
                               std::optional<std::chrono::milliseconds> delay,
                               std::optional<std::string> reason, AckCallback callback) {
  const auto reader = reader_by_topic_.find(id.topic_name);
  if (reader == reader_by_topic_.end()) {
    if (callback) {
      callback(Error(ErrorCategory::invalid_argument, 0,
                     "message from '" + id.topic_name + "' was not received by this consumer"));
    }
    return;
  }
  auto call = std::make_shared<AckCall>();
  call->positive = positive;
  call->reader = reader->second;
  call->callback = std::move(callback);
  if (positive) {
    call->ack.set_request_id(request_id);
    fill_msg_id(id, call->ack.mutable_msg_id());
    call->ack.set_subscription_name(options_.subscription);
  } else {
    call->nack.set_request_id(request_id);
    fill_msg_id(id, call->nack.mutable_msg_id());
    call->nack.set_subscription_name(options_.subscription);
    if (delay) call->nack.set_delay_ms(static_cast<std::uint64_t>(delay->count()));
    if (reason) call->nack.set_reason(*reason);
  }

  std::vector<std::shared_ptr<AckCall>> startable;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      startable.clear();
    } else {
      queued_acks_.push_back(std::move(call));
      startable = take_startable_locked();
      call = nullptr;
    }
  }
  if (call) {
    if (call->callback) call->callback(Error(ErrorCategory::cancelled, 0, "the consumer is closed"));
    return;
  }
  start_calls(std::move(startable));
}

std::vector<std::shared_ptr<ConsumerCore::AckCall>> ConsumerCore::take_startable_locked() {
  std::vector<std::shared_ptr<AckCall>> startable;
  while (!queued_acks_.empty() && acks_in_flight_ < options_.max_in_flight_acks) {
    startable.push_back(std::move(queued_acks_.front()));
    queued_acks_.pop_front();
    ++acks_in_flight_;
  }
  for (auto& call : startable) {
    call->context = std::make_unique<grpc::ClientContext>();
    active_calls_.insert(call->context.get());
  }
  return startable;
}

void ConsumerCore::start_calls(std::vector<std::shared_ptr<AckCall>> calls) {
  for (const auto& call : calls) start_call(call);
}

void ConsumerCore::start_call(const std::shared_ptr<AckCall>& call) {
  // The endpoint is read per attempt: after a resubscription acks go to the new consumer.
  call->endpoint = readers_[call->reader]->endpoint();
  call->stub = danube::ConsumerService::NewStub(call->endpoint.channel);
  client_->prepare(*call->context, &call->endpoint.address);
  auto done = [self = shared_from_this(), call](grpc::Status status) {
    self->on_call_done(call, status);
  };
  if (call->positive) {
    call->stub->async()->Ack(call->context.get(), &call->ack, &call->ack_response, std::move(done));
  } else {
    call->stub->async()->Nack(call->context.get(), &call->nack, &call->nack_response,
                              std::move(done));
  }
}

void ConsumerCore::on_call_done(const std::shared_ptr<AckCall>& call, const grpc::Status& status) {
  std::vector<std::shared_ptr<AckCall>> startable;
  {
    std::lock_guard lock(mutex_);
    active_calls_.erase(call->context.get());
    if (!status.ok() && is_retryable_code(status.error_code()) && !closed_ &&
        call->attempts < client_->options().retry.max_retries) {
      ++call->attempts;
      const auto delay = client_->backoff().delay(call->attempts);
      std::weak_ptr<ConsumerCore> weak = weak_from_this();
      client_->timers().post_after(delay, [weak, call] {
        auto self = weak.lock();
        if (!self) return;
        {
          std::lock_guard lock(self->mutex_);
          call->context = std::make_unique<grpc::ClientContext>();
          if (self->closed_) call->context->TryCancel();
          self->active_calls_.insert(call->context.get());
        }
        self->start_call(call);
      });
      return;
    }
    ++calls_settling_;  // keeps flush_acks() waiting until the callback below has run
    --acks_in_flight_;
    if (!closed_) startable = take_startable_locked();
  }
  if (status.ok()) {
    (call->positive ? counters_.acked : counters_.nacked).fetch_add(1, std::memory_order_relaxed);
  } else {
    counters_.ack_failures.fetch_add(1, std::memory_order_relaxed);
  }
  start_calls(std::move(startable));
  if (call->callback) {
    if (status.ok()) {
      call->callback(Done{});
    } else {
      const std::string& topic = call->positive ? call->ack.msg_id().topic_name()
                                                : call->nack.msg_id().topic_name();
      call->callback(to_error(std::string(call->positive ? "Ack " : "Nack ") + topic, status));
    }
  }
  {
    std::lock_guard lock(mutex_);
    --calls_settling_;
  }
  acks_changed_.notify_all();
}

bool ConsumerCore::flush_acks(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return acks_changed_.wait_for(lock, timeout, [&] {
    return queued_acks_.empty() && acks_in_flight_ == 0 && calls_settling_ == 0;
  });
}

ConsumerStats ConsumerCore::stats() const {
  ConsumerStats stats;
  stats.received = counters_.received.load(std::memory_order_relaxed);
  stats.acked = counters_.acked.load(std::memory_order_relaxed);
  stats.nacked = counters_.nacked.load(std::memory_order_relaxed);
  stats.ack_failures = counters_.ack_failures.load(std::memory_order_relaxed);
  stats.stream_reopens = counters_.stream_reopens.load(std::memory_order_relaxed);
  stats.resubscribes = counters_.resubscribes.load(std::memory_order_relaxed);
  stats.buffered_messages = buffer_.size();
  stats.buffered_bytes = buffer_.bytes();
  return stats;
}

void ConsumerCore::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  buffer_.close();
  for (auto& reader : readers_) reader->stop();
  flush_acks(kAckDrainOnClose);
  std::deque<std::shared_ptr<AckCall>> abandoned;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    std::swap(abandoned, queued_acks_);
    for (grpc::ClientContext* context : active_calls_) context->TryCancel();
  }
  for (auto& call : abandoned) {
    if (call->callback) call->callback(Error(ErrorCategory::cancelled, 0, "the consumer is closed"));
  }
  std::unique_lock lock(mutex_);
  acks_changed_.wait(lock, [&] { return acks_in_flight_ == 0 && calls_settling_ == 0; });
}

void ConsumerCore::schedule_health_check() {
  const auto interval = client_->options().health_check_interval;
  if (interval.count() <= 0) return;
  std::weak_ptr<ConsumerCore> weak = weak_from_this();
  client_->timers().post_after(interval, [weak] {
    if (auto self = weak.lock()) self->run_health_check();
  });
}

void ConsumerCore::run_health_check() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
  }
  struct Probe {
    grpc::ClientContext context;
    danube::HealthCheckRequest request;
    danube::HealthCheckResponse response;
    std::unique_ptr<danube::HealthCheck::Stub> stub;
    std::size_t reader = 0;
  };
  for (std::size_t i = 0; i < readers_.size(); ++i) {
    const PartitionEndpoint endpoint = readers_[i]->endpoint();
    if (!endpoint.channel) continue;
    auto probe = std::make_shared<Probe>();
    probe->reader = i;
    probe->request.set_request_id(client_->next_request_id());
    probe->request.set_client(danube::HealthCheckRequest::Consumer);
    probe->request.set_id(endpoint.consumer_id);
    probe->stub = danube::HealthCheck::NewStub(endpoint.channel);
    client_->prepare(probe->context, &endpoint.address);
    probe->stub->async()->HealthCheck(
        &probe->context, &probe->request, &probe->response,
        [self = shared_from_this(), probe](grpc::Status status) {
          if (!status.ok() || probe->response.status() != danube::HealthCheckResponse::CLOSE) return;
          PartitionReader& reader = *self->readers_[probe->reader];
          if (reader.endpoint().consumer_id != probe->request.id()) return;  // already renewed
          spdlog::info("component=danube_consumer event=health_close topic={} consumer_id={}",
                       reader.topic(), probe->request.id());
          reader.request_resubscribe();
        });
  }
  schedule_health_check();
}

}  // namespace danube::client::detail
