#include "producer_core.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "danube/SchemaRegistry.grpc.pb.h"
#include "danube/client/partitioning.hpp"
#include "danube/common/topic_name.hpp"
#include "proto_conversions.hpp"
#include "release_guard.hpp"

namespace danube::client::detail {
namespace {

std::uint64_t now_millis() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

Error closed_error() {
  return Error(ErrorCategory::cancelled, 0, "the producer is closed");
}

}  // namespace

struct ProducerCore::Send {
  danube::StreamMessage request;  // built once; only the id fields change between attempts
  SendCallback callback;
  std::size_t partition = 0;
  std::uint32_t attempts = 0;  // retries after retryable errors, reset after a re-creation
  bool resent_after_recreate = false;
  bool finished = false;
  // One attempt's call state.
  std::unique_ptr<grpc::ClientContext> context;
  std::shared_ptr<Connection> connection;
  BrokerAddress address;
  danube::MessageResponse response;
};

ProducerCore::ProducerCore(std::shared_ptr<ClientCore> client, ProducerOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

ProducerCore::~ProducerCore() = default;

Result<std::shared_ptr<ProducerCore>> ProducerCore::create(std::shared_ptr<ClientCore> client,
                                                           ProducerOptions options,
                                                           std::stop_token stop) {
  std::string why;
  if (!parse_topic_name(options.topic, &why)) {
    return Error(ErrorCategory::invalid_argument, 0,
                 "producer topic '" + options.topic + "': " + why);
  }
  if (options.name.empty()) {
    return Error(ErrorCategory::invalid_argument, 0, "producer name must not be empty");
  }
  if (options.max_in_flight == 0 || options.max_pending == 0) {
    return Error(ErrorCategory::invalid_argument, 0,
                 "producer max_in_flight and max_pending must be at least 1");
  }
  std::shared_ptr<ProducerCore> core(new ProducerCore(std::move(client), std::move(options)),
                                     CoreDeleter<ProducerCore>{});
  const std::size_t count = std::max<std::size_t>(1, core->options_.partitions);
  core->partitions_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    Partition& partition = core->partitions_[i];
    if (core->options_.partitions == 0) {
      partition.topic = core->options_.topic;
      partition.producer_name = core->options_.name;
    } else {
      partition.topic = partition_topic_name(core->options_.topic, i);
      partition.producer_name = core->options_.name + "-" + std::to_string(i);
    }
  }
  // The core's own cancellation ends the creation when `stop` fires; the core is discarded then.
  const std::stop_callback on_stop(stop, [&core] { core->stop_.cancel(); });
  if (core->options_.schema) {
    if (auto status = core->resolve_schema(); !status) return status.error();
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (auto status = core->create_partition(i); !status) return status.error();
  }
  if (stop.stop_requested()) {
    return Error(ErrorCategory::cancelled, 0,
                 "create producer " + core->options_.topic + ": stopped");
  }
  core->schedule_health_check();
  return core;
}

Status ProducerCore::resolve_schema() {
  const SchemaReference& reference = *options_.schema;
  danube_schema::GetLatestSchemaRequest latest_request;
  latest_request.set_subject(reference.subject);
  danube_schema::GetSchemaResponse latest;
  grpc::Status status = client_->call_with_retries(
      "GetLatestSchema " + reference.subject, nullptr,
      [&](grpc::ClientContext& context, Connection& connection) {
        return connection.schema_registry.GetLatestSchema(&context, latest_request, &latest);
      },
      &stop_);
  if (!status.ok()) return to_error("GetLatestSchema " + reference.subject, status);

  switch (reference.version.kind) {
    case VersionStrategy::Kind::latest:
      schema_id_ = latest.schema_id();
      schema_version_ = latest.version();
      break;
    case VersionStrategy::Kind::minimum:
      if (latest.version() < reference.version.version) {
        return Error(ErrorCategory::precondition, 0,
                     "schema subject '" + reference.subject + "' is at version " +
                         std::to_string(latest.version()) + ", below the required minimum " +
                         std::to_string(reference.version.version));
      }
      schema_id_ = latest.schema_id();
      schema_version_ = latest.version();
      break;
    case VersionStrategy::Kind::pinned: {
      danube_schema::GetSchemaRequest pinned_request;
      pinned_request.set_schema_id(latest.schema_id());
      pinned_request.set_version(reference.version.version);
      danube_schema::GetSchemaResponse pinned;
      status = client_->call_with_retries(
          "GetSchema " + reference.subject, nullptr,
          [&](grpc::ClientContext& context, Connection& connection) {
            return connection.schema_registry.GetSchema(&context, pinned_request, &pinned);
          },
          &stop_);
      if (!status.ok()) return to_error("GetSchema " + reference.subject, status);
      schema_id_ = pinned.schema_id();
      schema_version_ = pinned.version();
      break;
    }
  }
  return Done{};
}

Status ProducerCore::create_partition(std::size_t index) {
  std::string topic;
  std::string name;
  {
    std::lock_guard lock(mutex_);
    topic = partitions_[index].topic;
    name = partitions_[index].producer_name;
  }
  const BrokerAddress address = client_->resolve_topic(topic, &stop_);

  danube::ProducerRequest request;
  request.set_request_id(client_->next_request_id());
  request.set_producer_name(name);
  request.set_topic_name(topic);
  if (options_.schema) fill_schema_reference(*options_.schema, request.mutable_schema_ref());
  request.set_producer_access_mode(danube::Shared);
  request.set_dispatch_strategy(to_proto(options_.dispatch));
  danube::ProducerResponse response;
  const grpc::Status status = client_->call_with_retries(
      "CreateProducer " + topic, &address,
      [&](grpc::ClientContext& context, Connection& connection) {
        return connection.producer.CreateProducer(&context, request, &response);
      },
      &stop_);
  if (!status.ok()) return to_error("CreateProducer " + topic, status);

  std::lock_guard lock(mutex_);
  Partition& partition = partitions_[index];
  partition.producer_id = response.producer_id();
  partition.address = address;
  partition.connection = client_->connection(address.connect_url);
  partition.ready = true;
  spdlog::debug("component=danube_producer event=created topic={} producer={} producer_id={}",
                topic, name, partition.producer_id);
  return Done{};
}

std::size_t ProducerCore::choose_partition(const OutgoingMessage& message) {
  const std::size_t count = partitions_.size();
  if (count == 1) return 0;
  if (message.key) return partition_for_key(*message.key, count);
  return static_cast<std::size_t>(round_robin_++ % count);
}

void ProducerCore::send_async(OutgoingMessage message, SendCallback callback) {
  if (message.payload.size() > client_->options().max_message_size) {
    if (callback) {
      callback(Error(ErrorCategory::invalid_argument, 0,
                     "message of " + std::to_string(message.payload.size()) +
                         " bytes exceeds max_message_size " +
                         std::to_string(client_->options().max_message_size)));
    }
    return;
  }
  auto send = std::make_shared<Send>();
  send->callback = std::move(callback);
  danube::StreamMessage& request = send->request;
  request.set_payload(std::move(message.payload));
  for (auto& [key, value] : message.attributes)
    (*request.mutable_attributes())[key] = std::move(value);
  if (message.key) request.set_routing_key(*message.key);
  request.set_publish_time(now_millis());
  if (schema_id_) request.set_schema_id(*schema_id_);
  if (schema_version_) request.set_schema_version(*schema_version_);

  std::vector<std::shared_ptr<Send>> startable;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closing_ || pending_total_ < options_.max_pending; });
    if (closing_) {
      lock.unlock();
      if (send->callback) send->callback(closed_error());
      return;
    }
    send->partition = choose_partition(message);
    Partition& partition = partitions_[send->partition];
    request.set_producer_name(partition.producer_name);
    partition.queue.push_back(send);
    ++pending_total_;
    if (!partition.ready) request_recreate_locked(send->partition);
    startable = take_startable_locked();
  }
  start_sends(std::move(startable));
}

std::vector<std::shared_ptr<ProducerCore::Send>> ProducerCore::take_startable_locked() {
  std::vector<std::shared_ptr<Send>> startable;
  const std::size_t count = partitions_.size();
  const std::size_t per_partition_limit =
      options_.ordering == Ordering::strict ? 1 : options_.max_in_flight;
  for (std::size_t step = 0; step < count && in_flight_total_ < options_.max_in_flight; ++step) {
    const std::size_t index = (pump_cursor_ + step) % count;
    Partition& partition = partitions_[index];
    while (partition.ready && !partition.queue.empty() &&
           partition.in_flight < per_partition_limit && in_flight_total_ < options_.max_in_flight) {
      auto send = std::move(partition.queue.front());
      partition.queue.pop_front();
      ++partition.in_flight;
      ++in_flight_total_;
      startable.push_back(std::move(send));
    }
  }
  pump_cursor_ = (pump_cursor_ + 1) % count;
  for (auto& send : startable) {
    Partition& partition = partitions_[send->partition];
    danube::MsgID* id = send->request.mutable_msg_id();
    id->set_producer_id(partition.producer_id);
    id->set_topic_name(partition.topic);
    id->set_broker_addr(partition.address.connect_url);
    id->set_topic_offset(0);
    send->request.set_request_id(partition.next_request_id++);
    send->connection = partition.connection;
    send->address = partition.address;
    send->context = std::make_unique<grpc::ClientContext>();
    active_calls_.insert(send->context.get());
  }
  return startable;
}

void ProducerCore::start_sends(std::vector<std::shared_ptr<Send>> sends) {
  for (const auto& send : sends)
    start_send(send);
}

void ProducerCore::start_send(const std::shared_ptr<Send>& send) {
  client_->prepare(*send->context, &send->address);
  // The handler owns the core and the send only while it runs (see the class comment).
  auto done = [self = shared_from_this(), send = send](grpc::Status status) mutable {
    const ReleaseRestriction restriction;
    self->on_send_done(send, status);
    send.reset();
    self.reset();
  };
  send->connection->producer.async()->SendMessage(send->context.get(), &send->request,
                                                  &send->response, std::move(done));
}

void ProducerCore::on_send_done(const std::shared_ptr<Send>& send, const grpc::Status& status) {
  std::vector<std::shared_ptr<Send>> startable;
  SendCallback callback;
  std::optional<Result<SendReceipt>> outcome;
  {
    std::lock_guard lock(mutex_);
    active_calls_.erase(send->context.get());
    Partition& partition = partitions_[send->partition];
    const grpc::StatusCode code = status.error_code();
    const bool cancelled_by_close = closing_ && code == grpc::StatusCode::CANCELLED;

    if (!status.ok() && !cancelled_by_close && !send->finished && !closed_) {
      if (is_retryable_code(code) && send->attempts < client_->options().retry.max_retries) {
        // Keep the slot: in strict mode nothing may overtake this message while it waits.
        ++send->attempts;
        ++stats_.retried;
        waiting_for_retry_.insert(send);
        schedule_retry(send, send->attempts);
        return;
      }
      if ((is_retryable_code(code) || code == grpc::StatusCode::NOT_FOUND) &&
          !send->resent_after_recreate && !closing_) {
        // The broker no longer knows this producer (restart, unload) or stayed unreachable
        // through the retry budget: create it again and resend this message first.
        spdlog::info("component=danube_producer event=recreate topic={} reason=\"{}\"",
                     partition.topic, status.error_message());
        send->resent_after_recreate = true;
        send->attempts = 0;
        --partition.in_flight;
        --in_flight_total_;
        partition.queue.push_front(send);
        request_recreate_locked(send->partition);
        return;
      }
    }

    --partition.in_flight;
    --in_flight_total_;
    if (!send->finished) {
      send->finished = true;
      callback = std::move(send->callback);
      if (status.ok()) {
        ++stats_.sent;
        outcome.emplace(SendReceipt{send->request.request_id(), partition.topic, send->partition});
      } else {
        ++stats_.failed;
        outcome.emplace(cancelled_by_close ? closed_error()
                                           : to_error("SendMessage " + partition.topic, status));
      }
    }
    if (!closed_) startable = take_startable_locked();
  }
  changed_.notify_all();
  start_sends(std::move(startable));
  if (outcome) {
    if (callback) callback(std::move(*outcome));
    settled(1);
  }
}

void ProducerCore::settled(std::size_t count) {
  // Counted only after the callbacks ran, so flush() and close() never return while a callback
  // still uses what its caller owns.
  {
    std::lock_guard lock(mutex_);
    pending_total_ -= count;
  }
  changed_.notify_all();
}

void ProducerCore::schedule_retry(const std::shared_ptr<Send>& send, std::uint32_t attempt) {
  const auto delay = client_->backoff().delay(attempt);
  std::weak_ptr<ProducerCore> weak = weak_from_this();
  client_->timers().post_after(delay, [weak, send] {
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mutex_);
      self->waiting_for_retry_.erase(send);
      if (send->finished) return;  // failed by close() while waiting
      Partition& partition = self->partitions_[send->partition];
      if (!partition.ready) {
        // Re-created meanwhile or being re-created: go back to the head of the queue.
        --partition.in_flight;
        --self->in_flight_total_;
        partition.queue.push_front(send);
        return;
      }
      danube::MsgID* id = send->request.mutable_msg_id();
      id->set_producer_id(partition.producer_id);
      id->set_broker_addr(partition.address.connect_url);
      send->connection = partition.connection;
      send->address = partition.address;
      send->context = std::make_unique<grpc::ClientContext>();
      self->active_calls_.insert(send->context.get());
    }
    self->start_send(send);
  });
}

void ProducerCore::request_recreate_locked(std::size_t partition) {
  Partition& state = partitions_[partition];
  state.ready = false;
  if (state.recreating || closing_) return;
  state.recreating = true;
  std::weak_ptr<ProducerCore> weak = weak_from_this();
  client_->control().post([weak, partition] {
    if (auto self = weak.lock()) self->recreate(partition);
  });
}

void ProducerCore::recreate(std::size_t partition) {
  const Status status = create_partition(partition);
  std::vector<std::shared_ptr<Send>> startable;
  std::vector<std::pair<SendCallback, Error>> failures;
  {
    std::lock_guard lock(mutex_);
    Partition& state = partitions_[partition];
    state.recreating = false;
    if (status) {
      ++stats_.recreated;
      startable = take_startable_locked();
    } else {
      // Report the failure to everything waiting here; the next send tries again.
      state.ready = false;
      spdlog::warn("component=danube_producer event=recreate_failed topic={} error=\"{}\"",
                   state.topic, status.error().to_string());
      fail_queued_locked(partition, status.error(), failures);
    }
  }
  changed_.notify_all();
  start_sends(std::move(startable));
  finish(std::move(failures));
}

void ProducerCore::fail_queued_locked(std::size_t partition, const Error& error,
                                      std::vector<std::pair<SendCallback, Error>>& failures) {
  Partition& state = partitions_[partition];
  while (!state.queue.empty()) {
    auto send = std::move(state.queue.front());
    state.queue.pop_front();
    if (send->finished) continue;
    send->finished = true;
    ++stats_.failed;
    failures.emplace_back(std::move(send->callback), error);
  }
}

void ProducerCore::finish(std::vector<std::pair<SendCallback, Error>> failures) {
  for (auto& [callback, error] : failures) {
    if (callback) callback(std::move(error));
  }
  if (!failures.empty()) settled(failures.size());
}

bool ProducerCore::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pending_total_ == 0; });
}

std::size_t ProducerCore::pending() const {
  std::lock_guard lock(mutex_);
  return pending_total_;
}

ProducerStats ProducerCore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void ProducerCore::close(std::chrono::milliseconds drain_timeout) {
  std::vector<std::pair<SendCallback, Error>> failures;
  {
    std::unique_lock lock(mutex_);
    if (closed_) return;
    closing_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, drain_timeout, [&] { return pending_total_ == 0; });
    closed_ = true;
    for (std::size_t i = 0; i < partitions_.size(); ++i) {
      fail_queued_locked(i, closed_error(), failures);
    }
    // Sends waiting for a retry timer hold slots but no call: fail them now.
    for (const auto& send : waiting_for_retry_) {
      if (send->finished) continue;
      send->finished = true;
      --partitions_[send->partition].in_flight;
      --in_flight_total_;
      ++stats_.failed;
      failures.emplace_back(std::move(send->callback), closed_error());
    }
    waiting_for_retry_.clear();
    for (grpc::ClientContext* context : active_calls_)
      context->TryCancel();
  }
  stop_.cancel();
  finish(std::move(failures));
  // Cancelled calls complete promptly; their handlers (and health probes) use this object.
  std::unique_lock lock(mutex_);
  changed_.wait(
      lock, [&] { return active_calls_.empty() && pending_total_ == 0 && probes_running_ == 0; });
  // So does a re-creation on the control thread, which logs and fails its queue once it notices
  // the cancellation: wait for it too, so that nothing of this producer runs after close()
  // (otherwise it could log while the process exits and spdlog is gone). Bounded, because a
  // re-creation whose task never ran would leave its flag set.
  if (client_->control().on_scheduler_thread()) return;  // it would wait for itself
  changed_.wait_for(lock, std::chrono::seconds(2), [&] {
    return std::none_of(partitions_.begin(), partitions_.end(),
                        [](const Partition& partition) { return partition.recreating; });
  });
}

void ProducerCore::schedule_health_check() {
  const auto interval = client_->options().health_check_interval;
  if (interval.count() <= 0) return;
  std::weak_ptr<ProducerCore> weak = weak_from_this();
  client_->timers().post_after(interval, [weak] {
    if (auto self = weak.lock()) self->run_health_check();
  });
}

void ProducerCore::run_health_check() {
  struct Probe {
    grpc::ClientContext context;
    danube::HealthCheckRequest request;
    danube::HealthCheckResponse response;
    std::shared_ptr<Connection> connection;
    std::size_t partition = 0;
  };
  std::vector<std::shared_ptr<Probe>> probes;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    for (std::size_t i = 0; i < partitions_.size(); ++i) {
      const Partition& partition = partitions_[i];
      if (!partition.ready || !partition.connection) continue;
      auto probe = std::make_shared<Probe>();
      probe->partition = i;
      probe->connection = partition.connection;
      probe->request.set_request_id(client_->next_request_id());
      probe->request.set_client(danube::HealthCheckRequest::Producer);
      probe->request.set_id(partition.producer_id);
      client_->prepare(probe->context, &partition.address);
      active_calls_.insert(&probe->context);
      ++probes_running_;
      probes.push_back(std::move(probe));
    }
  }
  for (const auto& probe : probes) {
    auto done = [self = shared_from_this(), probe = probe](grpc::Status status) mutable {
      const ReleaseRestriction restriction;
      {
        std::lock_guard lock(self->mutex_);
        self->active_calls_.erase(&probe->context);
        --self->probes_running_;
        // A failed probe says nothing about our producer; only an explicit CLOSE does.
        Partition& partition = self->partitions_[probe->partition];
        if (status.ok() && probe->response.status() == danube::HealthCheckResponse::CLOSE &&
            partition.producer_id == probe->request.id() && !self->closing_) {
          spdlog::info("component=danube_producer event=health_close topic={} producer_id={}",
                       partition.topic, partition.producer_id);
          self->request_recreate_locked(probe->partition);
        }
      }
      self->changed_.notify_all();
      probe.reset();
      self.reset();
    };
    probe->connection->health.async()->HealthCheck(&probe->context, &probe->request,
                                                   &probe->response, std::move(done));
  }
  schedule_health_check();
}

}  // namespace danube::client::detail
