// Stopping a streaming source while the runtime is full. The author guide's streaming source
// sends with the blocking SourceSender::send() from a thread of its own and joins that thread
// in shutdown(); send() returns false "once the runtime has closed the channel". When its
// sender waits for room in the channel (publishes are slow, the pipeline is full) and the
// runtime stops the source — to restart it after a failure, to end after a failure, or to
// drain — the runtime must close the channel before it waits for shutdown(); otherwise
// shutdown() never returns: the restarted source never comes back, and the thread calling
// the connector never ends.
#include <boost/test/unit_test.hpp>

#include "common/supervision.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

// Streams records without end from its own thread, like the guide's TickerSource: a send
// blocks while the channel is full and only a closed channel ends it. (The wait is a loop of
// send_for() so that the test, and only the test, can end it if the runtime never closes the
// channel; the runtime sees exactly a blocking send().) With `sick_at_first`, health_check()
// fails in the first incarnation.
class TickerSource : public connect::SourceConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    int start_calls = 0;
    int shutdown_calls = 0;
    int shutdowns_returned = 0;
    int blocked_sends = 0;  // sends that found the channel full
    std::atomic<bool> escape{false};
  };

  TickerSource(std::shared_ptr<Shared> shared, std::string topic, bool sick_at_first)
      : shared_(std::move(shared)), topic_(std::move(topic)), sick_at_first_(sick_at_first) {}
  ~TickerSource() override { stop(); }

  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig(topic_, 0, true)};
  }
  connect::SourceMode mode() const override { return connect::SourceMode::streaming; }
  void start_streaming(connect::SourceSender sender) override {
    int incarnation = 0;
    {
      std::lock_guard lock(shared_->mutex);
      incarnation = ++shared_->start_calls;
      shared_->changed.notify_all();
    }
    stop();
    worker_ = std::jthread([sender, shared = shared_, incarnation](std::stop_token stop) {
      for (std::uint64_t tick = 0; !stop.stop_requested(); ++tick) {
        connect::SourceEnvelope envelope(connect::SourceRecord::from_string(
            "", "tick-" + std::to_string(incarnation) + "-" + std::to_string(tick)));
        bool counted = false;
        while (true) {  // send(): blocks until there is room or the channel is closed
          const auto status = sender.send_for(envelope, 20ms);
          if (status == connect::SendStatus::sent) break;
          if (status == connect::SendStatus::closed || shared->escape) return;
          if (!counted) {
            counted = true;
            std::lock_guard lock(shared->mutex);
            ++shared->blocked_sends;
            shared->changed.notify_all();
          }
        }
      }
    });
  }
  void shutdown() override {
    {
      std::lock_guard lock(shared_->mutex);
      ++shared_->shutdown_calls;
      shared_->changed.notify_all();
    }
    stop();
    std::lock_guard lock(shared_->mutex);
    ++shared_->shutdowns_returned;
    shared_->changed.notify_all();
  }
  void health_check() override {
    std::lock_guard lock(shared_->mutex);
    if (sick_at_first_ && shared_->start_calls == 1) {
      throw connect::ConnectorError::retryable("device offline");
    }
  }

 private:
  void stop() {
    worker_.request_stop();
    if (worker_.joinable()) worker_.join();
  }

  std::shared_ptr<Shared> shared_;
  std::string topic_;
  bool sick_at_first_;
  std::jthread worker_;
};

struct Fixture {
  Fixture() {
    broker.start();
    broker.create_topic(topic, true);
  }

  // A small pipeline (the channel holds 4 records, the pipeline 8) and a broker that answers
  // each publish after a second: the source's sender soon waits for room.
  connect::ConnectorConfig config(const std::string& name, connect::OnFatal on_fatal) {
    auto result = source_config(broker.service_url(), name, state.path);
    result.processing.batch_size = 4;
    result.delivery.max_inflight_records = 8;
    result.processing.health_check_interval_ms = 100;
    result.processing.health_check_failure_threshold = 2;
    result.supervision.on_fatal = on_fatal;
    result.supervision.restart_backoff_ms = 10;
    result.supervision.max_restart_backoff_ms = 40;
    result.shutdown.timeout_ms = 2000;  // bounds every wait for shutdown()
    broker.set_latency(testkit::Rpc::send_message, 1000ms);
    return result;
  }

  const std::string topic = "/default/ticks";
  testkit::EmbeddedBroker broker;
  TempDirectory state;
  std::shared_ptr<TickerSource::Shared> shared = std::make_shared<TickerSource::Shared>();
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
  // Lets a sender the runtime never released go when the test ends, so the actor system and
  // the runtime guard can finish.
  struct Escape {
    std::shared_ptr<TickerSource::Shared> shared;
    ~Escape() { shared->escape = true; }
  } escape{shared};
};

bool sender_blocked(TickerSource::Shared& shared) {
  return wait_until<TickerSource::Shared>(shared,
                                          [](const auto& s) { return s.blocked_sends >= 1; });
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_streaming_source_blocked_in_send_is_restarted, Fixture) {
  const auto runtime =
      runtimes.add(spawn_source(system, std::make_unique<TickerSource>(shared, topic, true),
                                config("restarted-ticker", connect::OnFatal::restart)));
  BOOST_REQUIRE(sender_blocked(*shared));

  // The health checks fail twice; the runtime restarts the source: shutdown() must return and
  // start_streaming() run again.
  const bool restarted = wait_until<TickerSource::Shared>(
      *shared, [](const auto& s) { return s.start_calls >= 2; }, 15s);
  broker.set_latency(testkit::Rpc::send_message, 0ms);
  {
    std::lock_guard lock(shared->mutex);
    BOOST_TEST_MESSAGE("start_streaming calls " << shared->start_calls << ", shutdown calls "
                                                << shared->shutdown_calls << " of which returned "
                                                << shared->shutdowns_returned);
    BOOST_TEST(shared->shutdown_calls >= 1);
    BOOST_TEST(shared->shutdowns_returned == shared->shutdown_calls);
  }
  BOOST_TEST(restarted);
  const auto status = status_of(system, runtime);
  BOOST_TEST(status.restarts == 1u);
  BOOST_TEST(status.state == "running");
}

BOOST_FIXTURE_TEST_CASE(a_failed_streaming_source_blocked_in_send_is_shut_down, Fixture) {
  const auto runtime =
      runtimes.add(spawn_source(system, std::make_unique<TickerSource>(shared, topic, true),
                                config("failed-ticker", connect::OnFatal::exit)));
  BOOST_REQUIRE(sender_blocked(*shared));
  const auto reason = wait_for_exit(system, runtime);
  BOOST_REQUIRE_MESSAGE(reason, "the runtime did not stop");
  BOOST_CHECK(failure_kind(*reason) == std::optional(connect::ErrorKind::fatal));
  std::lock_guard lock(shared->mutex);
  BOOST_TEST_MESSAGE("shutdown calls " << shared->shutdown_calls << " of which returned "
                                       << shared->shutdowns_returned);
  BOOST_TEST(shared->shutdown_calls == 1);
  // The runtime waited for shutdown() (until 90 % of the budget): it must have returned.
  BOOST_TEST(shared->shutdowns_returned == 1);
}

BOOST_FIXTURE_TEST_CASE(a_drained_streaming_source_blocked_in_send_is_shut_down, Fixture) {
  // The control: a drain stops intake (closing the channel) before shutdown().
  auto settings = config("drained-ticker", connect::OnFatal::exit);
  settings.shutdown.timeout_ms = 10'000;  // time to publish what is in flight
  const auto runtime = runtimes.add(
      spawn_source(system, std::make_unique<TickerSource>(shared, topic, false), settings));
  BOOST_REQUIRE(sender_blocked(*shared));
  broker.set_latency(testkit::Rpc::send_message, 0ms);
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.complete);
  BOOST_TEST(!drained->reason);
  BOOST_TEST(drained->status.processed == broker.counters(topic)->published);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->shutdown_calls == 1);
  BOOST_TEST(shared->shutdowns_returned == 1);
}
