// The source runtime against the embedded broker: per-record topics, offsets committed only
// after the broker accepted every record up to them, resuming from the offset store,
// streaming backpressure, and dead letters for records that cannot be published.
#include <boost/test/unit_test.hpp>

#include "danube/services/offset_store.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
  }

  connect::ConnectorConfig config(const std::string& name) const {
    auto result = fast_config(broker.service_url(), name);
    result.offsets.state_dir = state.path;
    result.offsets.commit_interval_ms = 20;
    return result;
  }

  std::unique_ptr<client::Consumer> consume(const std::string& topic, const std::string& name) {
    client::ConsumerOptions options;
    options.topic = topic;
    options.consumer_name = name;
    options.subscription = name;
    auto consumer = client->subscribe(options);
    BOOST_REQUIRE(consumer.ok());
    return std::move(consumer).value();
  }

  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  TempDirectory state;
  caf::actor_system system{system_config()};
};

std::vector<client::ReceivedMessage> receive_all(client::Consumer& consumer, std::size_t count) {
  std::vector<client::ReceivedMessage> received;
  const auto deadline = Clock::now() + 30s;
  while (received.size() < count && Clock::now() < deadline) {
    for (auto& message : consumer.receive(count - received.size(), 100ms)) {
      consumer.ack_async(message);
      received.push_back(std::move(message));
    }
  }
  return received;
}

// Emits records 0..count-1 (from where it resumes), even ones to /default/evens and odd ones
// to /default/odds, keyed, with offsets in one partition "seq". Commits are checked against
// the broker at the moment they happen.
class CountingSource : public connect::SourceConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<connect::Offset> resume;
    std::vector<std::uint64_t> committed;      // offset values, in commit order
    std::uint64_t commit_ahead_of_broker = 0;  // commits of offsets the broker did not have
  };

  CountingSource(std::shared_ptr<Shared> shared, testkit::EmbeddedBroker& broker,
                 std::uint64_t count)
      : shared_(std::move(shared)), broker_(broker), count_(count) {}

  void initialize(const connect::ConnectorContext& context) override {
    const auto& resume = context.resume_offsets();
    std::lock_guard lock(shared_->mutex);
    shared_->resume = resume;
    for (const auto& offset : resume) {
      if (offset.partition == "seq") next_ = offset.value + 1;
    }
  }

  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig("/default/evens", 0, true),
            connect::ProducerConfig("/default/odds", 2, true)};
  }

  std::vector<connect::SourceEnvelope> poll() override {
    std::vector<connect::SourceEnvelope> batch;
    for (int i = 0; i < 37 && next_ < count_; ++i, ++next_) {
      const std::string topic = next_ % 2 == 0 ? "/default/evens" : "/default/odds";
      auto record = connect::SourceRecord::from_string(topic, "n-" + std::to_string(next_))
                        .with_attribute("n", std::to_string(next_))
                        .with_key("k" + std::to_string(next_ % 5));
      batch.emplace_back(std::move(record), connect::Offset("seq", next_));
    }
    return batch;
  }

  void commit(const std::vector<connect::Offset>& offsets) override {
    std::lock_guard lock(shared_->mutex);
    for (const auto& offset : offsets) {
      // Every record up to this offset must be in the broker by now: count what it has.
      std::uint64_t published = broker_.counters("/default/evens")->published;
      for (int p = 0; p < 2; ++p) {
        if (auto counters = broker_.counters("/default/odds-part-" + std::to_string(p))) {
          published += counters->published;
        }
      }
      if (published < offset.value + 1 - first_offset()) ++shared_->commit_ahead_of_broker;
      shared_->committed.push_back(offset.value);
    }
    shared_->changed.notify_all();
  }

 private:
  std::uint64_t first_offset() const {
    for (const auto& offset : shared_->resume) {
      if (offset.partition == "seq") return offset.value + 1;
    }
    return 0;
  }

  std::shared_ptr<Shared> shared_;
  testkit::EmbeddedBroker& broker_;
  std::uint64_t count_;
  std::uint64_t next_ = 0;
};

bool wait_for_commit(CountingSource::Shared& shared, std::uint64_t value) {
  std::unique_lock lock(shared.mutex);
  return shared.changed.wait_for(
      lock, 30s, [&] { return !shared.committed.empty() && shared.committed.back() >= value; });
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(records_go_to_the_topics_they_name_and_offsets_commit_after_broker_acks,
                        Fixture) {
  broker.create_topic("/default/evens", true);
  broker.create_topic("/default/odds", true, 2);
  auto evens = consume("/default/evens", "evens-reader");
  auto odds = consume("/default/odds", "odds-reader");
  // Uneven publish latency: later records can be accepted before earlier ones.
  broker.set_latency(testkit::Rpc::send_message, 2ms);

  auto shared = std::make_shared<CountingSource::Shared>();
  auto runtime = spawn_source(system, std::make_unique<CountingSource>(shared, broker, 400),
                              config("counting-source"));
  BOOST_REQUIRE(wait_for_commit(*shared, 399));
  const auto status = drain(system, runtime);
  broker.set_latency(testkit::Rpc::send_message, 0ms);
  BOOST_TEST(status.processed == 400u);
  BOOST_TEST(status.received == 400u);

  auto even_messages = receive_all(*evens, 200);
  auto odd_messages = receive_all(*odds, 200);
  BOOST_TEST(even_messages.size() == 200u);
  BOOST_TEST(odd_messages.size() == 200u);
  for (const auto& message : odd_messages) {
    const auto n = std::stoul(message.attributes.at("n"));
    BOOST_TEST(n % 2 == 1u);
    BOOST_TEST(message.payload == "n-" + std::to_string(n));  // raw text, not JSON-quoted
    BOOST_TEST(message.routing_key.value_or("") == "k" + std::to_string(n % 5));
  }
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->commit_ahead_of_broker == 0u);
  BOOST_TEST(std::is_sorted(shared->committed.begin(), shared->committed.end()));
  const auto stored =
      services::FileOffsetStore::for_connector(state.path, "counting-source").load();
  BOOST_REQUIRE_EQUAL(stored.size(), 1u);
  BOOST_TEST(stored[0].value == 399u);
}

BOOST_FIXTURE_TEST_CASE(a_restarted_source_resumes_from_its_stored_offsets, Fixture) {
  broker.create_topic("/default/evens", true);
  broker.create_topic("/default/odds", true, 2);
  auto evens = consume("/default/evens", "evens-reader");
  auto odds = consume("/default/odds", "odds-reader");

  auto first = std::make_shared<CountingSource::Shared>();
  auto runtime = spawn_source(system, std::make_unique<CountingSource>(first, broker, 150),
                              config("resuming-source"));
  BOOST_REQUIRE(wait_for_commit(*first, 149));
  drain(system, runtime);

  auto second = std::make_shared<CountingSource::Shared>();
  runtime = spawn_source(system, std::make_unique<CountingSource>(second, broker, 300),
                         config("resuming-source"));
  BOOST_REQUIRE(wait_for_commit(*second, 299));
  drain(system, runtime);
  {
    std::lock_guard lock(second->mutex);
    BOOST_REQUIRE_EQUAL(second->resume.size(), 1u);
    BOOST_TEST(second->resume[0].value == 149u);
  }
  // Nothing was published twice and nothing is missing.
  std::set<std::string> payloads;
  for (auto& message : receive_all(*evens, 150))
    payloads.insert(message.payload);
  for (auto& message : receive_all(*odds, 150))
    payloads.insert(message.payload);
  BOOST_TEST(payloads.size() == 300u);
  BOOST_TEST(broker.counters("/default/evens")->published == 150u);
}

namespace {

// Pushes `count` records from its own thread through the sender; the sender blocks while the
// runtime is full.
class PushSource : public connect::SourceConnector {
 public:
  explicit PushSource(int count) : count_(count) {}
  ~PushSource() override {
    if (thread_.joinable()) thread_.join();
  }
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig("/default/pushed", 0, true)};
  }
  connect::SourceMode mode() const override { return connect::SourceMode::streaming; }
  void start_streaming(connect::SourceSender sender) override {
    thread_ = std::thread([this, sender] {
      for (int i = 0; i < count_; ++i) {
        if (!sender.send(connect::SourceRecord::from_string("", "push-" + std::to_string(i))))
          return;
        sent_.fetch_add(1);
      }
    });
  }
  void shutdown() override {
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_.load(); }

 private:
  int count_;
  std::atomic<int> sent_{0};
  std::thread thread_;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_streaming_source_is_published_completely_under_backpressure, Fixture) {
  broker.create_topic("/default/pushed", true);
  auto reader = consume("/default/pushed", "pushed-reader");
  auto options = config("push-source");
  options.processing.batch_size = 16;          // a small channel ...
  options.delivery.max_inflight_records = 32;  // ... and a small pipeline
  broker.set_latency(testkit::Rpc::send_message, 1ms);
  auto runtime = spawn_source(system, std::make_unique<PushSource>(2000), options);
  auto received = receive_all(*reader, 2000);
  BOOST_TEST(received.size() == 2000u);
  const auto status = drain(system, runtime);
  broker.set_latency(testkit::Rpc::send_message, 0ms);
  BOOST_TEST(status.processed == 2000u);
  std::set<std::string> payloads;
  for (const auto& message : received)
    payloads.insert(message.payload);
  BOOST_TEST(payloads.size() == 2000u);
}

namespace {

// Emits one record to a topic it never declared and one good record, once.
class StraySource : public connect::SourceConnector {
 public:
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig("/default/declared", 0, true)};
  }
  std::vector<connect::SourceEnvelope> poll() override {
    if (done_) return {};
    done_ = true;
    std::vector<connect::SourceEnvelope> batch;
    batch.emplace_back(connect::SourceRecord::from_string("/default/undeclared", "stray")
                           .with_attribute("origin", "test"),
                       connect::Offset("p", 0));
    batch.emplace_back(connect::SourceRecord::from_string("", "good"), connect::Offset("p", 1));
    return batch;
  }
  bool done_ = false;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(records_that_cannot_be_published_go_to_the_dead_letter_topic, Fixture) {
  broker.create_topic("/default/declared", true);
  broker.create_topic("/default/stray-source-dlq", true);
  auto dead_letters = consume("/default/stray-source-dlq", "dlq-reader");
  auto runtime = spawn_source(system, std::make_unique<StraySource>(), config("stray-source"));
  auto dead = receive_all(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(dead.size(), 1u);
  BOOST_TEST(dead[0].payload == "stray");
  BOOST_TEST(dead[0].attributes.at("origin") == "test");
  BOOST_TEST(dead[0].attributes.at("dlq.stage") == "publish");
  BOOST_TEST(dead[0].attributes.at("dlq.error_kind") == "invalid_data");
  BOOST_TEST(dead[0].attributes.at("dlq.origin_topic") == "/default/undeclared");
  BOOST_TEST(dead[0].attributes.at("dlq.offset") == "p:0");
  const auto status = drain(system, runtime);
  BOOST_TEST(status.dead_lettered == 1u);
  BOOST_TEST(status.processed == 1u);
  // The dead-lettered record counts as settled: the commit covers both offsets.
  const auto stored = services::FileOffsetStore::for_connector(state.path, "stray-source").load();
  BOOST_REQUIRE_EQUAL(stored.size(), 1u);
  BOOST_TEST(stored[0].value == 1u);
}
