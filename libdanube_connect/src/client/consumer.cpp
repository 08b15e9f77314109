#include "danube/client/consumer.hpp"

#include "consumer_core.hpp"
#include "release_guard.hpp"

namespace danube::client {
namespace {

// A call still in flight after close() holds the core until its completion runs; bounded so a
// stuck completion cannot hang the destructor.
constexpr std::chrono::seconds kReleaseWait{2};

}  // namespace

Consumer::Consumer(std::shared_ptr<detail::ConsumerCore> core) : core_(std::move(core)) {}

Consumer::~Consumer() {
  close();
  detail::release_and_wait(core_, kReleaseWait);
}

const std::string& Consumer::topic() const {
  return core_->options().topic;
}
const std::string& Consumer::subscription() const {
  return core_->options().subscription;
}
std::vector<std::string> Consumer::partitions() const {
  return core_->partitions();
}

std::vector<ReceivedMessage> Consumer::receive(std::size_t max_messages,
                                               std::chrono::milliseconds wait) {
  return core_->receive(max_messages, wait);
}

std::vector<ReceivedMessage> Consumer::try_receive(std::size_t max_messages) {
  return core_->receive(max_messages, std::chrono::milliseconds(0));
}

void Consumer::set_ready_callback(std::function<void()> callback) {
  core_->buffer().set_ready_callback(std::move(callback));
}

void Consumer::ack_async(std::uint64_t request_id, const MessageId& id, AckCallback callback) {
  core_->acknowledge(true, request_id, id, std::nullopt, std::nullopt, std::move(callback));
}

void Consumer::ack_async(const ReceivedMessage& message, AckCallback callback) {
  ack_async(message.request_id, message.id, std::move(callback));
}

std::future<Status> Consumer::ack(const ReceivedMessage& message) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  ack_async(message, [promise](Status status) { promise->set_value(std::move(status)); });
  return future;
}

void Consumer::nack_async(std::uint64_t request_id, const MessageId& id,
                          std::optional<std::chrono::milliseconds> delay,
                          std::optional<std::string> reason, AckCallback callback) {
  core_->acknowledge(false, request_id, id, delay, std::move(reason), std::move(callback));
}

bool Consumer::flush_acks(std::chrono::milliseconds timeout) {
  return core_->flush_acks(timeout);
}
ConsumerStats Consumer::stats() const {
  return core_->stats();
}
void Consumer::close(std::chrono::milliseconds ack_drain) {
  if (!detail::release_restricted()) {
    core_->close(ack_drain);
    return;
  }
  detail::ClientCore& client = core_->owning_client();
  client.control().post([core = core_, ack_drain] { core->close(ack_drain); });
}

}  // namespace danube::client
