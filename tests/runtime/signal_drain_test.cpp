// SIGTERM during a busy run, with the example connectors as real processes: the runtime
// drains (everything it processed is acked, everything it published is committed), exits 0,
// and a second run picks up exactly where the first stopped — nothing lost, nothing twice.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "child_process.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime::test;
using namespace std::chrono_literals;
using danube::test::ChildProcess;

namespace {

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
}

// Polls a file that another process appends to (no event to wait on across processes).
bool wait_for_lines(const std::filesystem::path& file, std::size_t count,
                    std::chrono::milliseconds timeout = 60s) {
  const auto deadline = Clock::now() + timeout;
  while (read_lines(file).size() < count) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string sink_config(const std::string& url, const std::filesystem::path& output) {
  return "danube_service_url = \"" + url + "\"\n" +
         "connector_name = \"signal-sink\"\n"
         "[processing]\nmetrics_port = 0\nbatch_size = 200\nbatch_timeout_ms = 20\n"
         "[simple_sink]\ntopic = \"/default/busy\"\nprint_every = 0\noutput_file = \"" +
         output.string() + "\"\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_during_a_busy_sink_run_loses_nothing_and_duplicates_nothing) {
  testkit::EmbeddedBroker broker;
  broker.start();
  broker.create_topic("/default/busy", true);
  TempDirectory dir;
  const auto output = dir.path / "processed.txt";
  write_file(dir.path / "sink.toml", sink_config(broker.service_url(), output));
  const std::vector<std::string> env = {"CONNECTOR_CONFIG_PATH=" +
                                        (dir.path / "sink.toml").string()};

  auto first = std::make_unique<ChildProcess>(std::vector<std::string>{SIMPLE_SINK_PATH}, env);
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        auto sub = broker.subscription("/default/busy", "simple-sink-sub");
        return sub && sub->connected_consumers == 1;
      },
      30s));
  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(options).value();
  std::optional<std::string> produce_failure;
  std::thread producer(
      [&] { produce_failure = try_produce(client, "/default/busy", 20000, "busy-"); });

  BOOST_REQUIRE(wait_for_lines(output, 2000));
  first->signal(SIGTERM);
  BOOST_TEST(first->wait(60s) == 0);
  const auto after_first = read_lines(output).size();
  BOOST_TEST_MESSAGE("first run processed " << after_first << " records before draining");
  producer.join();
  BOOST_REQUIRE_MESSAGE(!produce_failure, produce_failure.value_or(""));

  // The second run gets exactly the rest: unacked messages come back, acked ones never do.
  ChildProcess second(std::vector<std::string>{SIMPLE_SINK_PATH}, env);
  BOOST_REQUIRE(wait_for_lines(output, 20000));
  second.signal(SIGTERM);
  BOOST_TEST(second.wait(60s) == 0);

  const auto lines = read_lines(output);
  const std::set<std::string> distinct(lines.begin(), lines.end());
  BOOST_TEST(lines.size() == 20000u);
  BOOST_TEST(distinct.size() == 20000u);
  BOOST_TEST(after_first < 20000u);  // the signal really arrived mid-run
}

BOOST_AUTO_TEST_CASE(sigterm_during_a_busy_source_run_resumes_without_gaps_or_repeats) {
  testkit::EmbeddedBroker broker;
  broker.start();
  broker.create_topic("/default/generated", true);
  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(options).value();
  client::ConsumerOptions consumer_options;
  consumer_options.topic = "/default/generated";
  consumer_options.consumer_name = "checker";
  consumer_options.subscription = "checker";
  auto consumer = client.subscribe(consumer_options).value();

  TempDirectory dir;
  write_file(dir.path / "source.toml",
             "danube_service_url = \"" + broker.service_url() + "\"\n" +
                 "connector_name = \"signal-source\"\n"
                 "[processing]\nmetrics_port = 0\npoll_interval_ms = 5\n"
                 "[offsets]\nstate_dir = \"" +
                 (dir.path / "state").string() +
                 "\"\n"
                 "[simple_source]\ntopic = \"/default/generated\"\nmessage_count = 15000\n"
                 "batch_size = 100\ninterval_ms = 5\n");
  const std::vector<std::string> env = {"CONNECTOR_CONFIG_PATH=" +
                                        (dir.path / "source.toml").string()};
  std::vector<std::string> payloads;
  auto collect = [&](std::size_t until, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (payloads.size() < until && Clock::now() < deadline) {
      for (auto& message : consumer->receive(1000, 100ms)) {
        consumer->ack_async(message);
        payloads.push_back(message.attributes.at("message_number"));
      }
    }
  };

  {
    ChildProcess first(std::vector<std::string>{SIMPLE_SOURCE_PATH}, env);
    collect(3000, 60s);
    first.signal(SIGTERM);
    BOOST_TEST(first.wait(60s) == 0);
  }
  collect(15000, 500ms);  // whatever the first run published before it drained
  BOOST_TEST_MESSAGE("first run published " << payloads.size() << " records");
  BOOST_TEST(payloads.size() < 15000u);  // the signal really arrived mid-run
  ChildProcess second(std::vector<std::string>{SIMPLE_SOURCE_PATH}, env);
  collect(15000, 120s);
  second.signal(SIGTERM);
  BOOST_TEST(second.wait(60s) == 0);
  collect(15001, 1s);  // anything extra (a repeat) would show up now

  const std::set<std::string> distinct(payloads.begin(), payloads.end());
  BOOST_TEST(payloads.size() == 15000u);
  BOOST_TEST(distinct.size() == 15000u);
}
