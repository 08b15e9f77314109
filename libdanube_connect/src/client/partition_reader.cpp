#include "partition_reader.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "proto_conversions.hpp"
#include "release_guard.hpp"
#include "stream_loop.hpp"

namespace danube::client::detail {

// One ReceiveMessages call. At most one operation (start, read, finish) is queued at a time,
// and whoever queues it, or un-pauses the stream under the reader's lock, is its only user.
struct PartitionReader::Stream final : StreamCompletion {
  enum class Step { starting, reading, finishing };

  explicit Stream(PartitionReader& owner) : reader(owner) {}
  void on_completion(bool ok) override { reader.on_stream_event(*this, ok); }

  PartitionReader& reader;
  PartitionEndpoint endpoint;  // holds the connection whose stub runs the call
  grpc::ClientContext context;
  danube::ReceiveRequest request;
  danube::StreamMessage message;
  std::unique_ptr<grpc::ClientAsyncReader<danube::StreamMessage>> call;
  grpc::Status status;
  Step step = Step::starting;
  bool paused = false;  // the next read waits for room in the buffer
  bool received_any = false;
};

PartitionReader::PartitionReader(std::shared_ptr<ClientCore> client, const ConsumerOptions& options,
                                 std::string partition_topic, std::size_t index,
                                 ReceiveBuffer& buffer, ConsumerCounters& counters,
                                 std::atomic<std::size_t>& paused_readers)
    : client_(std::move(client)),
      options_(options),
      topic_(std::move(partition_topic)),
      index_(index),
      buffer_(buffer),
      counters_(counters),
      paused_readers_(paused_readers) {}

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

bool PartitionReader::buffer_has_room() const {
  return buffer_.size() < buffer_.max_items() &&
         (buffer_.max_bytes() == 0 || buffer_.bytes() < buffer_.max_bytes());
}

void PartitionReader::start() {
  std::lock_guard lock(mutex_);
  if (stopping() || stream_ || recovering_) return;
  open_stream_locked();
}

void PartitionReader::open_stream_locked() {
  auto stream = std::make_unique<Stream>(*this);
  stream->endpoint = endpoint_;
  // A stream has no deadline: it lives as long as the subscription.
  client_->prepare(stream->context, &stream->endpoint.address, std::chrono::milliseconds(0));
  stream->request.set_request_id(client_->next_request_id());
  stream->request.set_consumer_id(stream->endpoint.consumer_id);
  stream->call = stream->endpoint.connection->consumer.PrepareAsyncReceiveMessages(
      &stream->context, stream->request, &client_->streams().queue());
  Stream& opened = *stream;
  stream_ = std::move(stream);
  // Its completion waits for this lock on the loop's thread.
  opened.call->StartCall(opened.tag());
}

void PartitionReader::on_stream_event(Stream& stream, bool ok) {
  switch (stream.step) {
    case Stream::Step::starting:
      break;
    case Stream::Step::reading:
      if (!ok) break;
      {
        stream.received_any = true;
        ReceivedMessage received = to_received_message(std::move(stream.message));
        stream.message.Clear();
        received.topic = options_.topic;
        received.partition = index_;
        counters_.received.fetch_add(1, std::memory_order_relaxed);
        buffer_.push_now(std::move(received));  // may run the ready callback: no lock held
      }
      break;
    case Stream::Step::finishing:
      on_stream_finished(stream);
      return;
  }
  if (ok) {
    read_next(stream);
  } else {
    // No more messages (the broker ended the stream, or it was cancelled): fetch its status.
    stream.step = Stream::Step::finishing;
    stream.call->Finish(&stream.status, stream.tag());
  }
}

void PartitionReader::read_next(Stream& stream) {
  std::lock_guard lock(mutex_);
  const bool closing = stopping() || buffer_.is_closed();
  if (!closing && !buffer_has_room()) {
    // Counted before the second look, so a consumer that takes in between sees the count.
    paused_readers_.fetch_add(1);
    if (!buffer_has_room()) {
      stream.paused = true;
      return;
    }
    paused_readers_.fetch_sub(1);
  }
  start_read_locked(stream, closing);
}

void PartitionReader::start_read_locked(Stream& stream, bool closing) {
  // A closing consumer takes nothing more: the read fails at once and the stream finishes.
  if (closing) stream.context.TryCancel();
  stream.step = Stream::Step::reading;
  stream.call->Read(&stream.message, stream.tag());
}

void PartitionReader::resume() {
  std::lock_guard lock(mutex_);
  if (!stream_ || !stream_->paused) return;
  const bool closing = stopping() || buffer_.is_closed();
  if (!closing && !buffer_has_room()) return;
  stream_->paused = false;
  paused_readers_.fetch_sub(1);
  start_read_locked(*stream_, closing);
}

void PartitionReader::request_resubscribe() {
  std::lock_guard lock(mutex_);
  resubscribe_requested_ = true;
  if (stream_) stream_->context.TryCancel();
}

void PartitionReader::on_stream_finished(Stream& stream) {
  std::unique_lock lock(mutex_);
  std::unique_ptr<Stream> finished = std::move(stream_);
  if (stopping() || buffer_.is_closed()) {
    finished_stream_ = std::move(finished);
    // Under the lock: once it is released, stop() may return and the reader be destroyed.
    idle_.notify_all();
    return;
  }
  counters_.stream_reopens.fetch_add(1, std::memory_order_relaxed);
  const grpc::StatusCode code = stream.status.error_code();
  const bool resubscribe = resubscribe_requested_;
  resubscribe_requested_ = false;
  if (stream.received_any) failures_ = 0;

  bool subscribe_first = false;
  bool back_off = false;
  if (resubscribe || code == grpc::StatusCode::NOT_FOUND) {
    // CLOSE, or the broker does not know this consumer id any more (it restarted).
    subscribe_first = true;
  } else {
    ++failures_;
    if (!stream.status.ok()) {
      spdlog::debug("component=danube_consumer event=stream_ended topic={} code={} error=\"{}\"",
                    topic_, static_cast<int>(code), stream.status.error_message());
    }
    if (!stream.status.ok() && !is_retryable_code(code) && code != grpc::StatusCode::CANCELLED) {
      spdlog::warn("component=danube_consumer event=stream_failed topic={} error=\"{}\"", topic_,
                   to_error("ReceiveMessages " + topic_, stream.status).to_string());
      subscribe_first = true;
    } else if (failures_ > client_->options().retry.max_retries) {
      subscribe_first = true;
    }
    back_off = !stream.received_any;
  }
  // The previous recovery ended by opening the stream that just finished: it has returned.
  if (recovery_.joinable()) recovery_.join();
  recovering_ = true;
  recovery_ =
      std::thread([this, finished = std::move(finished), subscribe_first, back_off]() mutable {
        recover(std::move(finished), subscribe_first, back_off);
      });
}

void PartitionReader::recover(std::unique_ptr<Stream> finished, bool subscribe_first,
                              bool back_off) {
  pthread_setname_np(pthread_self(), "danube-reopen");
  std::uint32_t failures = 0;
  {
    // Taken once the loop's thread has left on_stream_finished, which still used the stream.
    std::lock_guard lock(mutex_);
    failures = failures_;
  }
  finished.reset();

  const auto give_up = [this] {
    std::lock_guard lock(mutex_);
    recovering_ = false;
    idle_.notify_all();
  };
  if (back_off && !stop_.sleep_for(client_->backoff().delay(failures))) return give_up();
  while (subscribe_first) {
    Status status = subscribe();
    if (status) {
      counters_.resubscribes.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    if (stopping()) return give_up();
    ++failures;
    spdlog::warn("component=danube_consumer event=resubscribe_failed topic={} error=\"{}\"", topic_,
                 status.error().to_string());
    if (!stop_.sleep_for(client_->backoff().delay(failures))) return give_up();
  }

  std::lock_guard lock(mutex_);
  failures_ = failures;
  recovering_ = false;
  if (stopping() || buffer_.is_closed()) {
    idle_.notify_all();
    return;
  }
  open_stream_locked();
}

void PartitionReader::stop() {
  stop_.cancel();
  std::unique_lock lock(mutex_);
  if (stream_) {
    stream_->context.TryCancel();
    if (stream_->paused) {
      stream_->paused = false;
      paused_readers_.fetch_sub(1);
      start_read_locked(*stream_, true);
    }
  }
  idle_.wait(lock, [&] { return !stream_ && !recovering_; });
  std::thread recovery = std::move(recovery_);
  std::unique_ptr<Stream> finished = std::move(finished_stream_);
  lock.unlock();
  if (recovery.joinable()) recovery.join();
}

}  // namespace danube::client::detail
