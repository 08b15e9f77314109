// The admin endpoints of a real connector process (simple_sink through the run helpers): the
// token named by [http] admin_token_env guards POST /pause; a paused sink leaves what the
// broker delivered untaken; SIGTERM while paused drains and exits 0; the next run processes
// every message once.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chaos_support.hpp"
#include "http_client.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime::test;
using namespace std::chrono_literals;
using danube::connect::test::http_request;
using nlohmann::json;

namespace {

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

json status_of(std::uint16_t port) {
  const auto reply = http_request(port, "GET", "/status");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  return json::parse(reply.body);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_while_paused_exits_cleanly_and_the_next_run_loses_nothing) {
  const std::string topic = "/default/paused-sink";
  testkit::EmbeddedBroker broker;  // a window of 10 unacked messages per subscription
  broker.start();
  broker.create_topic(topic, true);
  chaos::ScratchDirectory dir("admin-signal");
  const auto output = dir.path() / "processed.txt";
  chaos::ConnectorToml toml;
  toml.service_url = broker.service_url();
  toml.connector_name = "paused-sink";
  toml.extra = "[offsets]\nstate_dir = \"" + (dir.path() / "state").string() +
               "\"\n[simple_sink]\ntopic = \"" + topic + "\"\nprint_every = 0\noutput_file = \"" +
               output.string() + "\"\n";
  const auto config_file = dir.path() / "sink.toml";
  chaos::write_text_file(config_file, toml.render());
  chaos::ConnectorProcess sink("paused-sink", SIMPLE_SINK_PATH, config_file, dir.path());
  // The token comes from the variable the configuration names, never from the file.
  sink.set_environment(
      {"DANUBE_CONNECT__HTTP__ADMIN_TOKEN_ENV=PAUSE_TEST_TOKEN", "PAUSE_TEST_TOKEN=let-me-pause"});
  sink.start();
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, "simple-sink-sub");
        return sub && sub->connected_consumers == 1;
      },
      30s));
  const auto port = sink.http_port();

  BOOST_TEST(http_request(port, "POST", "/pause").status == 401);
  BOOST_TEST(http_request(port, "POST", "/pause", {"Authorization: Bearer wrong"}).status == 401);
  const auto paused = http_request(port, "POST", "/pause", {"Authorization: Bearer let-me-pause"});
  BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
  BOOST_TEST(json::parse(paused.body)["state"] == "paused");
  BOOST_TEST(!sink.log().lines_with("event=intake_paused").empty());
  BOOST_TEST(http_request(port, "GET", "/health").status == 200);
  BOOST_TEST(http_request(port, "GET", "/ready").status == 503);

  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(options).value();
  produce(client, topic, 30, "paused-");
  // The broker's window reached the process and waits there, untaken.
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, "simple-sink-sub");
        return sub && sub->in_flight == 10;
      },
      30s));
  BOOST_REQUIRE(eventually([&] { return status_of(port)["totals"]["held"] == 10; }));
  BOOST_TEST(status_of(port)["totals"]["received"] == 0);
  BOOST_TEST(read_lines(output).empty());

  sink.signal(SIGTERM);
  const auto exit = sink.wait(30s);
  BOOST_TEST_REQUIRE(exit.clean(), exit.describe() << "\n" << sink.log().tail());
  BOOST_TEST(!sink.log().lines_with("state=stopped").empty(), sink.log().tail());
  BOOST_TEST(read_lines(output).empty());

  // The next run, not paused, gets the unacked window again and the rest: each message once.
  sink.set_environment({});
  sink.start();
  BOOST_REQUIRE(eventually([&] { return read_lines(output).size() >= 30; }, 30s));
  sink.signal(SIGTERM);
  BOOST_TEST(sink.wait(30s).clean());
  const auto lines = read_lines(output);
  const std::set<std::string> distinct(lines.begin(), lines.end());
  BOOST_TEST(lines.size() == 30u);
  BOOST_TEST(missing(distinct, "paused-", 30) == 0u);
}
