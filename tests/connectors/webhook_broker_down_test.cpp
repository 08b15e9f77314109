// A 2xx from a reliable webhook endpoint means the broker has the event. The broker is stopped
// while senders keep posting: they get 503 with Retry-After (never a 2xx for what the broker
// did not confirm); once it is back every request that got a 2xx, before or after, is at the
// sink. Requests answered 503 may arrive too (the sender retries anyway: at least once).
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

#include "webhook_support.hpp"

using namespace danube::webhook::test;
namespace chaos = danube::chaos;

namespace {

const std::string kTopic = "/default/orders";

struct Ledger {
  std::mutex mutex;
  std::set<std::string> acknowledged;  // payloads answered 2xx
  std::set<std::string> refused;       // payloads answered 503
  std::map<long, int> statuses;
  std::vector<std::int64_t> latencies_ms;  // of the 2xx answers
  bool retry_after_on_every_503 = true;
};

// Posts `count` numbered events from `sender`, one at a time; records every answer.
void post_events(const std::string& url, const std::string& sender, int count, Ledger& ledger) {
  HttpClient client;
  for (int i = 0; i < count; ++i) {
    const std::string body = canonical(nlohmann::json{{"sender", sender}, {"n", i}}.dump());
    const auto started = chaos::Clock::now();
    const auto answer = client.post(url, body, {"Content-Type: application/json"}, 20s);
    const auto elapsed = chaos::millis_since(started);
    std::lock_guard lock(ledger.mutex);
    ++ledger.statuses[answer.status];
    if (answer.status >= 200 && answer.status < 300) {
      ledger.acknowledged.insert(body);
      ledger.latencies_ms.push_back(elapsed);
    } else if (answer.status == 503) {
      ledger.refused.insert(body);
      if (!answer.header("retry-after")) ledger.retry_after_on_every_503 = false;
    }
  }
}

std::string status_summary(const std::map<long, int>& statuses) {
  std::string text;
  for (const auto& [status, count] : statuses)
    text += (text.empty() ? "" : ",") + std::to_string(status) + ":" + std::to_string(count);
  return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(nothing_acknowledged_is_lost_when_the_broker_stops) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const auto started = chaos::Clock::now();
  chaos::ScratchDirectory dir("webhook-broker-down");
  chaos::BrokerProcess broker(kBrokerBinary, dir.path(),
                              {"--data-dir", (dir.path() / "broker-data").string(), "--topic",
                               kTopic + ":reliable", "--log-level", "warn"});
  broker.start();
  const auto config = dir.path() / "webhook.toml";
  chaos::write_text_file(config,
                         webhook_toml(broker.service_url(), "orders-hook", dir.path() / "state",
                                      "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                                      "ack_timeout_ms = 1500\nretry_after_seconds = 2\n"
                                      "[[routes]]\nfrom = \"/orders\"\nto = \"" +
                                          kTopic + "\"\nreliable_dispatch = true\n"));
  WebhookProcess webhook(config, dir.path());
  const auto output = dir.path() / "orders.txt";
  const auto sink_file = dir.path() / "sink.toml";
  chaos::write_text_file(sink_file, sink_toml(broker.service_url(), "orders-sink", kTopic, output));
  chaos::ConnectorProcess sink("orders-sink", kSimpleSinkBinary, sink_file, dir.path());
  // Subscribed before the first event: a new subscription starts at the newest message.
  sink.start();
  webhook.start();
  const std::string url = webhook.url("/orders");

  Ledger before, during, after;
  post_events(url, "before", 20, before);
  BOOST_TEST(before.acknowledged.size() == 20u, status_summary(before.statuses));

  const auto stopped = broker.stop(10s);
  BOOST_TEST(stopped.clean(), stopped.describe());
  {
    std::vector<std::thread> senders;
    for (int s = 0; s < 3; ++s) {
      senders.emplace_back([&, s] { post_events(url, "during-" + std::to_string(s), 2, during); });
    }
    for (auto& sender : senders)
      sender.join();
  }
  BOOST_TEST(during.statuses[503] == 6, status_summary(during.statuses));
  BOOST_TEST(during.acknowledged.empty());
  BOOST_TEST(during.retry_after_on_every_503);

  const auto restarted_at = chaos::Clock::now();
  broker.start();
  // Senders retry after Retry-After; here: until the first 2xx.
  HttpClient probe;
  const bool back = chaos::wait_until(
      [&] { return probe.post(url, R"({"sender":"probe"})", {}, 20s).status == 200; }, 30s);
  BOOST_TEST_REQUIRE(back, webhook.log().tail());
  const auto recovered_ms = chaos::millis_since(restarted_at);
  post_events(url, "after", 20, after);
  BOOST_TEST(after.acknowledged.size() == 20u, status_summary(after.statuses));

  std::set<std::string> expected = before.acknowledged;
  expected.insert(after.acknowledged.begin(), after.acknowledged.end());
  std::set<std::string> seen;
  const bool complete = chaos::wait_until(
      [&] {
        for (const auto& line : read_lines(output))
          seen.insert(line);  // the bodies are canonical JSON: published as sent
        return std::includes(seen.begin(), seen.end(), expected.begin(), expected.end());
      },
      30s);
  std::vector<std::string> missing;
  std::set_difference(expected.begin(), expected.end(), seen.begin(), seen.end(),
                      std::back_inserter(missing));
  std::size_t refused_arrived = 0;
  for (const auto& body : during.refused)
    refused_arrived += seen.count(body);
  std::vector<std::int64_t> latencies = before.latencies_ms;
  latencies.insert(latencies.end(), after.latencies_ms.begin(), after.latencies_ms.end());
  chaos::print_figures("webhook_broker_down",
                       {{"acknowledged", std::to_string(expected.size())},
                        {"at_sink", std::to_string(expected.size() - missing.size())},
                        {"refused_503", std::to_string(during.refused.size())},
                        {"refused_but_arrived", std::to_string(refused_arrived)},
                        {"recovered_ms", std::to_string(recovered_ms)},
                        {"ack_latency_ms(min/avg/max)", chaos::summarize_ms(latencies)},
                        {"duration_ms", std::to_string(chaos::millis_since(started))}});
  BOOST_TEST(complete);
  std::string missing_text;
  for (const auto& body : missing)
    missing_text += body + " ";
  BOOST_TEST(missing.empty(), "acknowledged but not at the sink: " << missing_text);

  const auto webhook_exit = webhook.stop();
  BOOST_TEST(webhook_exit.clean(), webhook_exit.describe() << "\n" << webhook.log().tail());
  sink.signal(SIGTERM);
  sink.wait(20s);
  curl_global_cleanup();
}
