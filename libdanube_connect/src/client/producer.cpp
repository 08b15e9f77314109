#include "danube/client/producer.hpp"

#include "producer_core.hpp"
#include "release_guard.hpp"

namespace danube::client {
namespace {

// A call still in flight after close() holds the core until its completion runs; bounded so a
// stuck completion cannot hang the destructor.
constexpr std::chrono::seconds kReleaseWait{2};

}  // namespace

Producer::Producer(std::shared_ptr<detail::ProducerCore> core) : core_(std::move(core)) {}

Producer::~Producer() {
  close();
  detail::release_and_wait(core_, kReleaseWait);
}

const std::string& Producer::topic() const {
  return core_->options().topic;
}
const std::string& Producer::name() const {
  return core_->options().name;
}
std::size_t Producer::partitions() const {
  return core_->partition_count();
}

void Producer::send_async(OutgoingMessage message, SendCallback callback) {
  core_->send_async(std::move(message), std::move(callback));
}

std::future<Result<SendReceipt>> Producer::send(OutgoingMessage message) {
  auto promise = std::make_shared<std::promise<Result<SendReceipt>>>();
  auto future = promise->get_future();
  core_->send_async(std::move(message), [promise](Result<SendReceipt> outcome) {
    promise->set_value(std::move(outcome));
  });
  return future;
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  return core_->flush(timeout);
}
std::size_t Producer::pending() const {
  return core_->pending();
}
ProducerStats Producer::stats() const {
  return core_->stats();
}
void Producer::close(std::chrono::milliseconds drain_timeout) {
  if (!detail::release_restricted()) {
    core_->close(drain_timeout);
    return;
  }
  detail::ClientCore& client = core_->owning_client();
  client.control().post([core = core_, drain_timeout] { core->close(drain_timeout); });
}

}  // namespace danube::client
