// Supervision of sources: health_check failures past the threshold fail the source, which is
// restarted ([supervision] on_fatal = "restart") and goes on publishing, or stops the runtime
// (on_fatal = "exit"); a streaming source whose start_streaming throws is a fatal failure,
// handled the same way.
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

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
  }

  connect::ConnectorConfig config(const std::string& name, connect::OnFatal on_fatal) const {
    auto result = source_config(broker.service_url(), name, state.path);
    result.supervision.on_fatal = on_fatal;
    result.supervision.max_restarts = 5;
    result.supervision.restart_backoff_ms = 10;
    result.supervision.max_restart_backoff_ms = 40;
    return result;
  }

  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  TempDirectory state;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
};

std::set<std::string> payloads(const std::vector<client::ReceivedMessage>& messages) {
  std::set<std::string> result;
  for (const auto& message : messages)
    result.insert(message.payload);
  return result;
}

// A streaming source whose start_streaming throws on its first `failing` calls (every call
// when negative), and otherwise pushes `count` records from a thread of its own.
class StreamingSource : public connect::SourceConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    int start_calls = 0;
    int initialize_calls = 0;
    int shutdown_calls = 0;
  };

  StreamingSource(std::shared_ptr<Shared> shared, std::string topic, int failing, int count)
      : shared_(std::move(shared)), topic_(std::move(topic)), failing_(failing), count_(count) {}
  ~StreamingSource() override { stop(); }

  void initialize(const connect::ConnectorContext&) override {
    std::lock_guard lock(shared_->mutex);
    ++shared_->initialize_calls;
  }
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig(topic_, 0, true)};
  }
  connect::SourceMode mode() const override { return connect::SourceMode::streaming; }
  void start_streaming(connect::SourceSender sender) override {
    int call = 0;
    {
      std::lock_guard lock(shared_->mutex);
      call = ++shared_->start_calls;
      shared_->changed.notify_all();
    }
    if (failing_ < 0 || call <= failing_) {
      throw std::runtime_error("the device stream refused the connection");
    }
    stop();
    worker_ = std::jthread([sender, count = count_](std::stop_token stop) {
      for (int i = 0; i < count && !stop.stop_requested(); ++i) {
        if (!sender.send(connect::SourceRecord::from_string("", "e-" + std::to_string(i)))) return;
      }
    });
  }
  void shutdown() override {
    stop();
    std::lock_guard lock(shared_->mutex);
    ++shared_->shutdown_calls;
    shared_->changed.notify_all();
  }

 private:
  void stop() {
    worker_.request_stop();
    if (worker_.joinable()) worker_.join();
  }

  std::shared_ptr<Shared> shared_;
  std::string topic_;
  int failing_;
  int count_;
  std::jthread worker_;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_source_failing_its_health_checks_is_restarted_and_publishes_everything,
                        Fixture) {
  const std::string topic = "/default/sick-source";
  broker.create_topic(topic, true);
  auto out = reader(*client, topic, "sick-reader");
  auto shared = std::make_shared<ScriptedSource::Shared>();
  // Unhealthy in its first incarnation only.
  auto health = [](int initialize_calls) {
    if (initialize_calls == 1) throw connect::ConnectorError::retryable("upstream unreachable");
  };
  std::set<std::string> expected;
  for (std::uint64_t i = 0; i < 30; ++i) {
    shared->push({connect::SourceRecord::from_string("", "h-" + std::to_string(i)),
                  connect::Offset("h", i)});
    expected.insert("h-" + std::to_string(i));
  }
  auto settings = config("sick-source", connect::OnFatal::restart);
  settings.processing.health_check_interval_ms = 200;
  settings.processing.health_check_failure_threshold = 2;
  const auto runtime = runtimes.add(
      spawn_source(system,
                   std::make_unique<ScriptedSource>(
                       shared, std::vector{connect::ProducerConfig(topic, 0, true)}, health),
                   settings));

  // The second incarnation is healthy: several of its probes pass without another restart.
  BOOST_REQUIRE(wait_until<ScriptedSource::Shared>(
      *shared, [](const auto& s) { return s.healthy_checks_after_restart >= 3; }));
  const auto status = status_of(system, runtime);
  BOOST_TEST(status.restarts == 1u);
  BOOST_TEST(status.state == "running");
  // The crossing names the health check (the detail is the last failed probe's: the
  // connector's error, or a probe that a loaded machine did not answer in time).
  BOOST_TEST(status.last_error.find("health check failed 2 consecutive times") !=
             std::string::npos);

  // Published after the restart as well (records polled again after it may come twice).
  for (std::uint64_t i = 30; i < 40; ++i) {
    shared->push({connect::SourceRecord::from_string("", "h-" + std::to_string(i)),
                  connect::Offset("h", i)});
    expected.insert("h-" + std::to_string(i));
  }
  std::set<std::string> seen;
  const auto deadline = Clock::now() + 30s;
  while (seen.size() < expected.size() && Clock::now() < deadline) {
    for (const auto& payload : payloads(receive_n(*out, 1, 200ms)))
      seen.insert(payload);
  }
  BOOST_TEST(seen == expected);

  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.state == "stopped");
  BOOST_TEST(drained->status.restarts == 1u);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->initialize_calls == 2);
  BOOST_TEST(shared->shutdown_calls == 2);  // before the restart, and at the end
  BOOST_TEST(shared->health_checks > shared->healthy_checks_after_restart);  // sick ones first
}

BOOST_FIXTURE_TEST_CASE(a_source_failing_its_health_checks_without_restarts_stops_the_runtime,
                        Fixture) {
  const std::string topic = "/default/sick-forever";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<ScriptedSource::Shared>();
  auto health = [](int) { throw connect::ConnectorError::retryable("upstream unreachable"); };
  auto settings = config("sick-forever", connect::OnFatal::exit);
  settings.processing.health_check_interval_ms = 100;
  settings.processing.health_check_failure_threshold = 3;
  const auto runtime = runtimes.add(
      spawn_source(system,
                   std::make_unique<ScriptedSource>(
                       shared, std::vector{connect::ProducerConfig(topic, 0, true)}, health),
                   settings));
  const auto reason = wait_for_exit(system, runtime);
  BOOST_REQUIRE_MESSAGE(reason, "the runtime did not stop");
  BOOST_CHECK(failure_kind(*reason) == std::optional(connect::ErrorKind::fatal));
  BOOST_TEST(system.render(*reason).find("health check failed 3 consecutive times") !=
             std::string::npos);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->health_checks >= 3);
  BOOST_TEST(shared->initialize_calls == 1);
  BOOST_TEST(shared->shutdown_calls == 1);
}

BOOST_FIXTURE_TEST_CASE(a_throwing_start_streaming_stops_the_runtime_without_restarts, Fixture) {
  const std::string topic = "/default/no-stream";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<StreamingSource::Shared>();
  const auto runtime =
      runtimes.add(spawn_source(system, std::make_unique<StreamingSource>(shared, topic, -1, 0),
                                config("no-stream", connect::OnFatal::exit)));
  const auto reason = wait_for_exit(system, runtime);
  BOOST_REQUIRE_MESSAGE(reason, "the runtime did not stop");
  BOOST_CHECK(failure_kind(*reason) == std::optional(connect::ErrorKind::fatal));
  BOOST_TEST(system.render(*reason).find("the device stream refused the connection") !=
             std::string::npos);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->start_calls == 1);
  BOOST_TEST(shared->shutdown_calls == 1);
}

BOOST_FIXTURE_TEST_CASE(a_throwing_start_streaming_is_restarted_and_then_streams, Fixture) {
  const std::string topic = "/default/late-stream";
  broker.create_topic(topic, true);
  auto out = reader(*client, topic, "late-reader");
  auto shared = std::make_shared<StreamingSource::Shared>();
  const auto runtime =
      runtimes.add(spawn_source(system, std::make_unique<StreamingSource>(shared, topic, 1, 50),
                                config("late-stream", connect::OnFatal::restart)));
  const auto received = receive_n(*out, 50);
  BOOST_TEST(received.size() == 50u);
  std::set<std::string> expected;
  for (int i = 0; i < 50; ++i)
    expected.insert("e-" + std::to_string(i));
  BOOST_TEST(payloads(received) == expected);
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.state == "stopped");
  BOOST_TEST(drained->status.restarts == 1u);
  BOOST_TEST(drained->status.processed == 50u);
  BOOST_TEST(drained->status.last_error.find("the device stream refused the connection") !=
             std::string::npos);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->start_calls == 2);
  BOOST_TEST(shared->initialize_calls == 2);
}
