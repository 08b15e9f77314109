// delivery_check: runs tally_sink (this project's sink, on the installed SDK) against an embedded
// broker started in this process (danube_connect::testkit), publishes messages to it with the
// Danube client (danube_connect::client), and checks that the sink processed and acknowledged
// every one and exits cleanly on SIGTERM.
//   delivery_check [messages]     default 200; exit code 0 when every check passed
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "danube/client/client.hpp"
#include "danube/testkit/embedded_broker.hpp"

extern char** environ;

namespace {

constexpr auto kEventTimeout = std::chrono::seconds(60);

bool check(bool condition, const std::string& what) {
  std::printf("delivery_check: %s: %s\n", condition ? "ok" : "FAILED", what.c_str());
  std::fflush(stdout);
  return condition;
}

// The sink as a child process with its stdout on a pipe; the broker address and a free metrics
// port come through the environment, as for any connector.
struct SinkProcess {
  pid_t pid = -1;
  int stdout_fd = -1;
};

SinkProcess start_sink(const std::string& service_url) {
  std::vector<std::string> variables;
  for (char** entry = environ; *entry != nullptr; ++entry)
    variables.emplace_back(*entry);
  variables.push_back("DANUBE_SERVICE_URL=" + service_url);
  variables.push_back("CONNECTOR_NAME=tally-sink");
  variables.push_back("DANUBE_CONNECT__PROCESSING__METRICS_PORT=0");
  variables.push_back("DANUBE_CONNECT__HTTP__BIND_ADDRESS=127.0.0.1");
  std::vector<char*> envp;
  for (auto& variable : variables)
    envp.push_back(variable.data());
  envp.push_back(nullptr);

  std::array<int, 2> pipe_fds{};
  if (pipe(pipe_fds.data()) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  std::string program = TALLY_SINK_PATH;
  std::array<char*, 2> argv{program.data(), nullptr};
  SinkProcess sink;
  if (posix_spawn(&sink.pid, program.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) {
    sink.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  sink.stdout_fd = pipe_fds[0];
  return sink;
}

// Everything the sink wrote, once it has closed its stdout (at exit).
std::string read_all(int fd) {
  std::string text;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t count = read(fd, buffer.data(), buffer.size());
    if (count <= 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(count));
  }
  close(fd);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t messages = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200;
  const std::string topic = CONSUMER_TOPIC;

  danube::testkit::EmbeddedBroker broker;
  broker.start();
  broker.create_topic(topic, /*reliable=*/true);

  SinkProcess sink = start_sink(broker.service_url());
  if (!check(sink.pid > 0, "tally_sink started (" + std::string(TALLY_SINK_PATH) + ")")) return 1;

  // A new subscription starts at the newest message: publish once the sink is subscribed.
  const bool subscribed = broker.wait_until(
      [&] {
        const auto snapshot = broker.subscription(topic, "tally-sink-sub");
        return snapshot && snapshot->connected_consumers > 0;
      },
      kEventTimeout);
  bool ok = check(subscribed, "tally_sink subscribed to " + topic);

  if (ok) {
    danube::client::ClientOptions client_options;
    client_options.service_url = broker.service_url();
    auto client = danube::client::DanubeClient::create(client_options);
    ok = check(client.ok(), "client created");
    if (ok) {
      danube::client::ProducerOptions options;
      options.topic = topic;
      options.name = "delivery-check";
      options.dispatch = danube::Dispatch::reliable;
      auto producer = client.value().create_producer(options);
      ok = check(producer.ok(), "producer created");
      if (ok) {
        std::vector<std::future<danube::client::Result<danube::client::SendReceipt>>> receipts;
        for (std::size_t i = 0; i < messages; ++i) {
          danube::client::OutgoingMessage message;
          message.payload = "message-" + std::to_string(i);
          receipts.push_back(producer.value()->send(std::move(message)));
        }
        std::size_t sent = 0;
        for (auto& receipt : receipts)
          sent += receipt.get().ok() ? 1 : 0;
        ok = check(sent == messages, std::to_string(sent) + " of " + std::to_string(messages) +
                                         " messages published");
      }
    }
  }
  if (ok) {
    ok = check(
        broker.wait_for_counters(
            topic, [&](const auto& counters) { return counters.acked >= messages; }, kEventTimeout),
        "the broker saw every message acknowledged");
  }

  kill(sink.pid, SIGTERM);
  const std::string output = read_all(sink.stdout_fd);
  int status = 0;
  waitpid(sink.pid, &status, 0);
  ok = check(
           WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "tally_sink exited with code 0 after SIGTERM (status " + std::to_string(status) + ")") &&
       ok;
  const std::string expected = "tally_sink records=" + std::to_string(messages) +
                               " distinct=" + std::to_string(messages) + "\n";
  ok =
      check(output == expected, "tally_sink printed '" + expected.substr(0, expected.size() - 1) +
                                    "' and nothing else" +
                                    (output == expected ? "" : " (it printed '" + output + "')")) &&
      ok;
  const auto counters = broker.counters(topic);
  ok = check(counters && counters->published == messages && counters->acked == messages &&
                 counters->dead_lettered == 0,
             "broker counters: published " + std::to_string(counters ? counters->published : 0) +
                 ", acked " + std::to_string(counters ? counters->acked : 0) + ", dead-lettered " +
                 std::to_string(counters ? counters->dead_lettered : 0)) &&
       ok;
  broker.stop();
  return ok ? 0 : 1;
}
