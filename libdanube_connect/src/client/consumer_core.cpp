#include "consumer_core.hpp"

#include <spdlog/spdlog.h>

#include "danube/common/topic_name.hpp"
#include "proto_conversions.hpp"
#include "release_guard.hpp"

namespace danube::client::detail {
namespace {

// How long a consumer closed by its destructor lets acks already issued finish.
constexpr std::chrono::seconds kAckDrainOnRelease{5};

Error closed_error() {
  return Error(ErrorCategory::cancelled, 0, "the consumer is closed");
}

}  // namespace

struct ConsumerCore::AckCall {
  bool positive = true;
  danube::AckRequest ack;
  danube::NackRequest nack;
  AckCallback callback;
  std::size_t reader = 0;
  std::uint32_t attempts = 0;
  bool finished = false;  // failed by close() while waiting for a retry
  std::unique_ptr<grpc::ClientContext> context;
  PartitionEndpoint endpoint;  // holds the connection whose stub runs the call
  danube::AckResponse ack_response;
  danube::NackResponse nack_response;
};

ConsumerCore::ConsumerCore(std::shared_ptr<ClientCore> client, ConsumerOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      buffer_(options_.buffer_max_messages, options_.buffer_max_bytes) {}

ConsumerCore::~ConsumerCore() {
  close(kAckDrainOnRelease);
}

Result<std::shared_ptr<ConsumerCore>> ConsumerCore::create(std::shared_ptr<ClientCore> client,
                                                           ConsumerOptions options,
                                                           std::stop_token stop) {
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
  Result<std::vector<std::string>> partitions = std::vector<std::string>{};
  {
    Cancellation lookup;
    const std::stop_callback on_stop(stop, [&lookup] { lookup.cancel(); });
    partitions = client->topic_partitions(options.topic, &lookup);
  }
  if (!partitions) return partitions.error();
  if (partitions.value().empty()) {
    return Error(ErrorCategory::not_found, 0,
                 "no topic or partitions found for '" + options.topic + "'");
  }

  std::shared_ptr<ConsumerCore> core(new ConsumerCore(std::move(client), std::move(options)),
                                     CoreDeleter<ConsumerCore>{});
  for (std::size_t i = 0; i < partitions.value().size(); ++i) {
    const std::string& topic = partitions.value()[i];
    core->readers_.push_back(std::make_unique<PartitionReader>(core->client_, core->options_, topic,
                                                               i, core->buffer_, core->counters_,
                                                               core->paused_readers_));
    core->reader_by_topic_[topic] = i;
  }
  {
    // Stopping the creation stops the readers, which are still idle: their subscribe() returns.
    const std::stop_callback on_stop(stop, [&core] {
      for (auto& reader : core->readers_)
        reader->stop();
    });
    for (auto& reader : core->readers_) {
      if (auto status = reader->subscribe(); !status) {
        core->close(std::chrono::milliseconds(0));
        return status.error();
      }
    }
    if (stop.stop_requested()) {
      core->close(std::chrono::milliseconds(0));
      return Error(ErrorCategory::cancelled, 0, "subscribe " + core->options_.topic + ": stopped");
    }
  }
  for (auto& reader : core->readers_)
    reader->start();
  core->schedule_health_check();
  return core;
}

std::vector<std::string> ConsumerCore::partitions() const {
  std::vector<std::string> topics;
  for (const auto& reader : readers_)
    topics.push_back(reader->topic());
  return topics;
}

std::vector<ReceivedMessage> ConsumerCore::receive(std::size_t max_messages,
                                                   std::chrono::milliseconds wait) {
  std::vector<ReceivedMessage> taken =
      wait.count() > 0 ? buffer_.pop_for(max_messages, wait) : buffer_.try_pop(max_messages);
  // After the take, so a reader that counted itself paused before it looked sees the room.
  if (!taken.empty() && paused_readers_.load() != 0) {
    for (auto& reader : readers_)
      reader->resume();
  }
  return taken;
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
    if (!closed_) {
      queued_acks_.push_back(std::move(call));
      startable = take_startable_locked();
    }
  }
  if (call) {
    if (call->callback) call->callback(closed_error());
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
  for (const auto& call : calls)
    start_call(call);
}

void ConsumerCore::start_call(const std::shared_ptr<AckCall>& call) {
  // The endpoint is read per attempt: after a resubscription acks go to the new consumer.
  call->endpoint = readers_[call->reader]->endpoint();
  client_->prepare(*call->context, &call->endpoint.address);
  // The handler owns the core and the call only while it runs (see the class comment).
  auto done = [self = shared_from_this(), call = call](grpc::Status status) mutable {
    const ReleaseRestriction restriction;
    self->on_call_done(call, status);
    call.reset();
    self.reset();
  };
  auto& stub = *call->endpoint.connection->consumer.async();
  if (call->positive) {
    stub.Ack(call->context.get(), &call->ack, &call->ack_response, std::move(done));
  } else {
    stub.Nack(call->context.get(), &call->nack, &call->nack_response, std::move(done));
  }
}

void ConsumerCore::retry_call(const std::shared_ptr<AckCall>& call) {
  {
    std::lock_guard lock(mutex_);
    if (waiting_for_retry_.erase(call) == 0 || call->finished) return;  // failed by close()
    call->context = std::make_unique<grpc::ClientContext>();
    active_calls_.insert(call->context.get());
  }
  start_call(call);
}

void ConsumerCore::on_call_done(const std::shared_ptr<AckCall>& call, const grpc::Status& status) {
  std::vector<std::shared_ptr<AckCall>> startable;
  {
    std::lock_guard lock(mutex_);
    active_calls_.erase(call->context.get());
    if (!status.ok() && is_retryable_code(status.error_code()) && !closed_ &&
        call->attempts < client_->options().retry.max_retries) {
      ++call->attempts;
      waiting_for_retry_.insert(call);
      const auto delay = client_->backoff().delay(call->attempts);
      std::weak_ptr<ConsumerCore> weak = weak_from_this();
      client_->timers().post_after(delay, [weak, call] {
        if (auto self = weak.lock()) self->retry_call(call);
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
  if (AckCallback callback = std::move(call->callback)) {
    if (status.ok()) {
      callback(Done{});
    } else {
      const std::string& topic =
          call->positive ? call->ack.msg_id().topic_name() : call->nack.msg_id().topic_name();
      callback(to_error(std::string(call->positive ? "Ack " : "Nack ") + topic, status));
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

void ConsumerCore::close(std::chrono::milliseconds ack_drain) {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  buffer_.close();
  for (auto& reader : readers_)
    reader->stop();
  if (ack_drain.count() > 0) flush_acks(ack_drain);
  std::vector<std::shared_ptr<AckCall>> abandoned;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    abandoned.assign(queued_acks_.begin(), queued_acks_.end());
    queued_acks_.clear();
    // Calls waiting for a retry timer hold no gRPC call: fail them here, not when the timer fires.
    for (const auto& call : waiting_for_retry_) {
      call->finished = true;
      --acks_in_flight_;
      abandoned.push_back(call);
    }
    waiting_for_retry_.clear();
    for (grpc::ClientContext* context : active_calls_)
      context->TryCancel();
  }
  for (auto& call : abandoned) {
    if (AckCallback callback = std::move(call->callback)) callback(closed_error());
  }
  // Cancelled calls complete promptly; their handlers (and health probes) use this object.
  std::unique_lock lock(mutex_);
  acks_changed_.wait(
      lock, [&] { return acks_in_flight_ == 0 && calls_settling_ == 0 && probes_running_ == 0; });
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
  struct Probe {
    grpc::ClientContext context;
    danube::HealthCheckRequest request;
    danube::HealthCheckResponse response;
    PartitionEndpoint endpoint;
    std::size_t reader = 0;
  };
  std::vector<std::shared_ptr<Probe>> probes;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    for (std::size_t i = 0; i < readers_.size(); ++i) {
      auto probe = std::make_shared<Probe>();
      probe->endpoint = readers_[i]->endpoint();
      if (!probe->endpoint.connection) continue;
      probe->reader = i;
      probe->request.set_request_id(client_->next_request_id());
      probe->request.set_client(danube::HealthCheckRequest::Consumer);
      probe->request.set_id(probe->endpoint.consumer_id);
      client_->prepare(probe->context, &probe->endpoint.address);
      active_calls_.insert(&probe->context);
      ++probes_running_;
      probes.push_back(std::move(probe));
    }
  }
  for (const auto& probe : probes) {
    auto done = [self = shared_from_this(), probe = probe](grpc::Status status) mutable {
      const ReleaseRestriction restriction;
      const bool renew =
          status.ok() && probe->response.status() == danube::HealthCheckResponse::CLOSE;
      PartitionReader& reader = *self->readers_[probe->reader];
      if (renew && reader.endpoint().consumer_id == probe->request.id()) {
        spdlog::info("component=danube_consumer event=health_close topic={} consumer_id={}",
                     reader.topic(), probe->request.id());
        reader.request_resubscribe();
      }
      {
        std::lock_guard lock(self->mutex_);
        self->active_calls_.erase(&probe->context);
        --self->probes_running_;
      }
      self->acks_changed_.notify_all();
      probe.reset();
      self.reset();
    };
    probe->endpoint.connection->health.async()->HealthCheck(&probe->context, &probe->request,
                                                            &probe->response, std::move(done));
  }
  schedule_health_check();
}

}  // namespace danube::client::detail
