// How a connector process ends, seen from outside as an operator sees it: SIGTERM ends it
// within [shutdown] timeout_ms whatever the broker does, and a configuration error found by the
// connector itself exits with code 2 and names the file, the line and the key.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "child_process.hpp"
#include "danube/runtime/run.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime::test;
using namespace std::chrono_literals;
using danube::test::ChildProcess;

namespace {

constexpr std::uint64_t kBudgetMs = 2000;
// What the process may take beyond its budget to exit once the watchdog fires: tearing down the
// process, and under a sanitizer also the sanitizer's own exit work (TSan took 643 ms here).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr long kExitSlackMs = 1500;
#else
constexpr long kExitSlackMs = 500;
#endif

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
}

// Runs `program` with its stderr joined to stdout, so the test can read what it reports.
std::unique_ptr<ChildProcess> start(const std::string& program,
                                    const std::filesystem::path& config) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{"/bin/sh", "-c", "exec \"" + program + "\" 2>&1"},
      std::vector<std::string>{"CONNECTOR_CONFIG_PATH=" + config.string()});
}

// Reads the child's output until a line contains `needle`; false at the end of its output.
bool wait_for_output(ChildProcess& child, const std::string& needle, std::string* all = nullptr,
                     std::chrono::milliseconds timeout = 60s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto line = child.read_line(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!line) return false;
    if (all) *all += *line + "\n";
    if (line->find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string common_config(const std::string& url, const std::string& name,
                          const std::filesystem::path& state) {
  return "danube_service_url = \"" + url + "\"\nconnector_name = \"" + name +
         "\"\n[processing]\nmetrics_port = 0\n[shutdown]\ntimeout_ms = " +
         std::to_string(kBudgetMs) + "\n[offsets]\nstate_dir = \"" + state.string() + "\"\n";
}

// Signals the child and returns how long it took to exit, and with which status.
std::pair<std::chrono::milliseconds, int> terminate(ChildProcess& child) {
  const auto signalled = Clock::now();
  child.signal(SIGTERM);
  const int status = child.wait(60s);
  return {std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled), status};
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_with_the_broker_down_ends_a_source_within_its_budget) {
  testkit::EmbeddedBroker broker;
  broker.start();
  TempDirectory dir;
  write_file(dir.path / "source.toml",
             common_config(broker.service_url(), "budget-source", dir.path / "state") +
                 "[simple_source]\ntopic = \"/default/budget\"\nmessage_count = 0\n"
                 "batch_size = 50\ninterval_ms = 1\n");
  auto source = start(SIMPLE_SOURCE_PATH, dir.path / "source.toml");
  BOOST_REQUIRE(broker.wait_for_counters(
      "/default/budget", [](const testkit::TopicCounters& c) { return c.published > 200; }, 30s));
  broker.stop();  // publishes now fail and retry; producers wait to be re-created
  const auto [elapsed, status] = terminate(*source);
  BOOST_TEST_MESSAGE("source exited " << status << " after " << elapsed.count() << " ms");
  BOOST_TEST(elapsed.count() <= static_cast<long>(kBudgetMs) + kExitSlackMs);
  BOOST_TEST((status == runtime::kExitClean || status == runtime::kExitDrainIncomplete));
}

BOOST_AUTO_TEST_CASE(sigterm_with_the_broker_down_ends_a_sink_within_its_budget) {
  testkit::EmbeddedBroker broker;
  broker.start();
  broker.create_topic("/default/budget-sink", true, 2);
  TempDirectory dir;
  write_file(dir.path / "sink.toml",
             common_config(broker.service_url(), "budget-sink", dir.path / "state") +
                 "[simple_sink]\ntopic = \"/default/budget-sink\"\nprint_every = 0\n");
  auto sink = start(SIMPLE_SINK_PATH, dir.path / "sink.toml");
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        auto sub = broker.subscription("/default/budget-sink-part-1", "simple-sink-sub");
        return sub && sub->connected_consumers == 1;
      },
      30s));
  broker.stop();
  const auto [elapsed, status] = terminate(*sink);
  BOOST_TEST_MESSAGE("sink exited " << status << " after " << elapsed.count() << " ms");
  BOOST_TEST(elapsed.count() <= static_cast<long>(kBudgetMs) + kExitSlackMs);
  BOOST_TEST((status == runtime::kExitClean || status == runtime::kExitDrainIncomplete));
}

BOOST_AUTO_TEST_CASE(sigterm_while_a_sink_waits_for_its_topic_ends_within_its_budget) {
  testkit::EmbeddedBroker broker;
  broker.start();
  TempDirectory dir;
  // The topic never appears: broker I/O waits for it with the [retry] backoff (seconds).
  write_file(dir.path / "sink.toml",
             common_config(broker.service_url(), "waiting-sink", dir.path / "state") +
                 "[retry]\nmax_retries = 20\nretry_backoff_ms = 5000\nmax_backoff_ms = 5000\n"
                 "[simple_sink]\ntopic = \"/default/not-yet\"\nprint_every = 0\n");
  auto sink = start(SIMPLE_SINK_PATH, dir.path / "sink.toml");
  BOOST_REQUIRE(wait_for_output(*sink, "event=waiting_for_topic"));
  const auto [elapsed, status] = terminate(*sink);
  BOOST_TEST_MESSAGE("sink exited " << status << " after " << elapsed.count() << " ms");
  BOOST_TEST(elapsed.count() <= static_cast<long>(kBudgetMs) + kExitSlackMs);
  BOOST_TEST(status == runtime::kExitClean);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_in_a_connector_table_exits_2_naming_file_line_and_key) {
  testkit::EmbeddedBroker broker;
  broker.start();
  broker.create_topic("/default/strict", true);
  TempDirectory dir;
  const auto config = dir.path / "sink.toml";
  // on_fatal = restart must not turn a configuration error into a restart loop.
  write_file(config, common_config(broker.service_url(), "strict-sink", dir.path / "state") +
                         "[supervision]\non_fatal = \"restart\"\n"
                         "[simple_sink]\ntopic = \"/default/strict\"\nprint_evry = 5\n");
  auto sink = start(SIMPLE_SINK_PATH, config);
  const std::string output = sink->read_rest(60s);
  const int status = sink->wait(30s);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(status == runtime::kExitConfigError);
  BOOST_TEST(output.find("print_evry") != std::string::npos);
  BOOST_TEST(output.find(config.string() + ":") != std::string::npos);  // file:line
  BOOST_TEST(output.find("event=restart_scheduled") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unwritable_output_file_exits_2_naming_the_key) {
  testkit::EmbeddedBroker broker;
  broker.start();
  broker.create_topic("/default/unwritable", true);
  TempDirectory dir;
  const auto config = dir.path / "sink.toml";
  write_file(config, common_config(broker.service_url(), "unwritable-sink", dir.path / "state") +
                         "[simple_sink]\ntopic = \"/default/unwritable\"\noutput_file = \"" +
                         (dir.path / "missing-dir" / "out.txt").string() + "\"\n");
  auto sink = start(SIMPLE_SINK_PATH, config);
  const std::string output = sink->read_rest(60s);
  const int status = sink->wait(30s);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(status == runtime::kExitConfigError);
  BOOST_TEST(output.find("output_file") != std::string::npos);
  BOOST_TEST(output.find(config.string() + ":") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_invalid_topic_in_a_connector_table_exits_2_naming_file_line_and_key) {
  testkit::EmbeddedBroker broker;
  broker.start();
  TempDirectory dir;
  const auto config = dir.path / "source.toml";
  write_file(config, common_config(broker.service_url(), "bad-topic-source", dir.path / "state") +
                         "[simple_source]\ntopic = \"orders\"\n");
  auto source = start(SIMPLE_SOURCE_PATH, config);
  const std::string output = source->read_rest(60s);
  const int status = source->wait(30s);
  BOOST_TEST_MESSAGE(output);
  BOOST_TEST(status == runtime::kExitConfigError);
  BOOST_TEST(output.find(config.string() + ":10: [simple_source] topic: invalid topic name") !=
             std::string::npos);
}
