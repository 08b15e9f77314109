// danube-embedded-broker: its command line, its readiness line and its signal handling.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "broker_cli.hpp"
#include "broker_test_support.hpp"

extern char** environ;

namespace danube::testkit::test {
namespace {

using Action = BrokerCommandLine::Action;

// A child process with its stdout and stderr on pipes; killed if the test ends early.
class Process {
 public:
  explicit Process(const std::vector<std::string>& args) {
    int out[2], err[2];
    BOOST_REQUIRE(::pipe(out) == 0);
    BOOST_REQUIRE(::pipe(err) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, err[0]);
    std::vector<std::string> storage = args;
    storage.insert(storage.begin(), DANUBE_EMBEDDED_BROKER_PATH);
    std::vector<char*> argv;
    for (auto& arg : storage)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    BOOST_REQUIRE(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    stdout_ = out[0];
    stderr_ = err[0];
  }

  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(stdout_);
    ::close(stderr_);
  }

  // Reads stdout until a full line arrives or the timeout passes.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
        auto line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd poll_fd{stdout_, POLLIN, 0};
      if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[256];
      const auto got = ::read(stdout_, chunk, sizeof chunk);
      if (got <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  std::string read_all_stderr() {
    std::string all;
    char chunk[256];
    for (;;) {
      const auto got = ::read(stderr_, chunk, sizeof chunk);
      if (got <= 0) return all;
      all.append(chunk, static_cast<std::size_t>(got));
    }
  }

  void signal(int number) { ::kill(pid_, number); }

  // Waits for the exit status (blocking: the callers made sure the process ends).
  int wait_exit_code() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1, stderr_ = -1;
  std::string buffer_;
};

BOOST_AUTO_TEST_CASE(parses_every_flag) {
  TempDir dir;
  const auto secret_file = dir.path() / "secret";
  std::ofstream(secret_file) << "file-secret\n";
  const auto parsed = parse_broker_command_line({"--listen",
                                                 "0.0.0.0:7000",
                                                 "--data-dir",
                                                 "/tmp/x",
                                                 "--fsync",
                                                 "always",
                                                 "--fsync-interval-ms=50",
                                                 "--max-unacked",
                                                 "100",
                                                 "--ack-timeout-ms",
                                                 "250",
                                                 "--max-redelivery",
                                                 "3",
                                                 "--redelivery-backoff-ms",
                                                 "10",
                                                 "--redelivery-backoff-max-ms",
                                                 "90",
                                                 "--poison-policy",
                                                 "dead-letter",
                                                 "--dead-letter-topic",
                                                 "/default/dlq",
                                                 "--max-message-size",
                                                 "2048",
                                                 "--namespace",
                                                 "alpha",
                                                 "--namespace",
                                                 "beta",
                                                 "--no-auto-create",
                                                 "--tls-cert",
                                                 "c.pem",
                                                 "--tls-key",
                                                 "k.pem",
                                                 "--jwt-secret-file",
                                                 secret_file.string(),
                                                 "--log-level",
                                                 "debug",
                                                 "--dispatch",
                                                 "danube-0.15",
                                                 "--cursor-persist-interval-ms=0",
                                                 "--cluster-like"});
  BOOST_REQUIRE((parsed.action == Action::run));
  const auto& options = parsed.options;
  BOOST_TEST(options.listen_address == "0.0.0.0:7000");
  BOOST_TEST(options.data_dir->string() == "/tmp/x");
  BOOST_TEST((options.fsync == FsyncPolicy::always));
  BOOST_TEST(options.fsync_interval.count() == 50);
  BOOST_TEST(options.max_unacked_messages == 100U);
  BOOST_TEST(options.ack_timeout.count() == 250);
  BOOST_TEST(options.max_redelivery_count == 3U);
  BOOST_TEST(options.redelivery_backoff_initial.count() == 10);
  BOOST_TEST(options.redelivery_backoff_max.count() == 90);
  BOOST_TEST((options.poison_policy == PoisonPolicy::dead_letter));
  BOOST_TEST(options.dead_letter_topic == "/default/dlq");
  BOOST_TEST(options.max_message_size == 2048U);
  BOOST_TEST(options.namespaces == (std::vector<std::string>{"default", "alpha", "beta"}),
             boost::test_tools::per_element());
  BOOST_TEST(!options.auto_create_topics);
  BOOST_TEST(options.tls->cert_file.string() == "c.pem");
  BOOST_TEST(options.tls->key_file.string() == "k.pem");
  BOOST_TEST(*options.jwt_secret == "file-secret");
  BOOST_TEST(parsed.log_level == "debug");
  BOOST_TEST((options.dispatch_fidelity == DispatchFidelity::danube_0_15));
  BOOST_TEST(options.cursor_persist_interval.count() == 0);
  BOOST_TEST(options.cluster_like);
}

BOOST_AUTO_TEST_CASE(topic_flag_takes_partitions_and_strategy) {
  const auto parsed = parse_broker_command_line({"--topic", "/default/plain", "--topic",
                                                 "/default/parted:partitions=3", "--topic",
                                                 "/default/fast:non-reliable:partitions=2"});
  BOOST_REQUIRE((parsed.action == Action::run));
  BOOST_REQUIRE(parsed.topics.size() == 3U);
  BOOST_TEST(parsed.topics[0].name == "/default/plain");
  BOOST_TEST(parsed.topics[0].reliable);
  BOOST_TEST(parsed.topics[0].partitions == 0U);
  BOOST_TEST(parsed.topics[1].partitions == 3U);
  BOOST_TEST(!parsed.topics[2].reliable);
  BOOST_TEST(parsed.topics[2].partitions == 2U);
  for (const std::string bad : {"default/x", "/default/x:partitions=0", "/default/x:fast"}) {
    const auto failed = parse_broker_command_line({"--topic", bad});
    BOOST_TEST((failed.action == Action::fail));
    BOOST_TEST(failed.error.find("--topic") != std::string::npos, failed.error);
  }
}

BOOST_AUTO_TEST_CASE(defaults_listen_on_danube_client_port) {
  const auto parsed = parse_broker_command_line({});
  BOOST_REQUIRE((parsed.action == Action::run));
  BOOST_TEST(parsed.options.listen_address == "127.0.0.1:6650");
  BOOST_TEST(!parsed.options.data_dir.has_value());
  BOOST_TEST((parsed.options.dispatch_fidelity == DispatchFidelity::lossless));
  BOOST_TEST(parsed.options.cursor_persist_interval.count() == 10000);
  BOOST_TEST(!parsed.options.cluster_like);
  BOOST_TEST((parse_broker_command_line({"--help"}).action == Action::show_help));
}

BOOST_AUTO_TEST_CASE(bad_flags_fail_naming_the_flag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bogus"}, "--bogus"},
      {{"--max-unacked", "zero"}, "--max-unacked"},
      {{"--max-unacked", "0"}, "--max-unacked"},
      {{"--ack-timeout-ms", "-5"}, "--ack-timeout-ms"},
      {{"--fsync", "sometimes"}, "--fsync"},
      {{"--listen"}, "--listen"},
      {{"--tls-cert", "c.pem"}, "--tls-key"},
      {{"--poison-policy", "dead-letter"}, "--dead-letter-topic"},
      {{"--jwt-secret", "a", "--jwt-secret-file", "b"}, "--jwt-secret-file"},
      {{"--jwt-secret-file", "/nonexistent/secret"}, "--jwt-secret-file"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--no-auto-create=yes"}, "--no-auto-create"},
      {{"--dispatch", "lossy"}, "--dispatch"},
      {{"--cursor-persist-interval-ms", "-1"}, "--cursor-persist-interval-ms"},
      {{"--cluster-like"}, "--data-dir"},
  };
  for (const auto& [args, flag] : cases) {
    const auto parsed = parse_broker_command_line(args);
    BOOST_TEST_CONTEXT("args starting with " << args.front()) {
      BOOST_TEST((parsed.action == Action::fail));
      // CLI11 names some flags without their leading dashes.
      BOOST_TEST(parsed.error.find(flag.substr(2)) != std::string::npos, parsed.error);
    }
  }
}

BOOST_AUTO_TEST_CASE(executable_announces_readiness_serves_and_stops_on_sigterm) {
  TempDir dir;
  Process broker({"--listen", "127.0.0.1:0", "--data-dir", dir.path().string(), "--log-level",
                  "warn", "--topic", "/default/made:partitions=2"});
  const auto line = broker.read_line(kWait);
  BOOST_REQUIRE(line.has_value());
  const std::string prefix = "danube-embedded-broker listening on 127.0.0.1:";
  BOOST_REQUIRE_MESSAGE(line->rfind(prefix, 0) == 0, *line);
  const std::string address =
      line->substr(std::string("danube-embedded-broker listening on ").size());

  Client client(address);
  danube::TopicPartitionsResponse partitions;
  BOOST_REQUIRE(client.partitions("/default/made", &partitions).ok());
  BOOST_TEST(partitions.partitions_size() == 2);  // created before the readiness line
  const auto producer = client.producer("/default/proc", "p", true);
  client.send_ok(producer, "/default/proc", "hello");
  broker.signal(SIGTERM);
  BOOST_TEST(broker.wait_exit_code() == 0);
  BOOST_TEST(std::filesystem::exists(dir.path() / "topics" / "default" / "proc" / "log"));
}

BOOST_AUTO_TEST_CASE(executable_survives_a_deeply_nested_json_schema) {
  Process broker({"--listen", "127.0.0.1:0", "--log-level", "warn"});
  const auto line = broker.read_line(kWait);
  BOOST_REQUIRE(line.has_value());
  const std::string prefix = "danube-embedded-broker listening on ";
  BOOST_REQUIRE_MESSAGE(line->rfind(prefix, 0) == 0, *line);
  Client client(line->substr(prefix.size()));

  const std::string hostile = nested_json_object(70'000);
  const auto registered = register_json_schema(client, "hostile", hostile);
  BOOST_TEST(registered.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(
      registered.error_message().find("JSON nesting deeper than 128 levels") != std::string::npos,
      registered.error_message());
  BOOST_REQUIRE(register_json_schema(client, "orders", R"({"type":"object"})").ok());
  BOOST_TEST(check_json_schema(client, "orders", hostile).error_code() ==
             grpc::StatusCode::INVALID_ARGUMENT);

  // Still serving; and it exits cleanly, not from a signal of its own.
  danube_schema::CheckCompatibilityResponse compatible;
  BOOST_REQUIRE(check_json_schema(client, "orders", R"({"type":"object"})", &compatible).ok());
  BOOST_TEST(compatible.is_compatible());
  broker.signal(SIGTERM);
  BOOST_TEST(broker.wait_exit_code() == 0);
}

BOOST_AUTO_TEST_CASE(executable_stops_on_sigint_too) {
  Process broker({"--listen", "127.0.0.1:0"});
  BOOST_REQUIRE(broker.read_line(kWait).has_value());
  broker.signal(SIGINT);
  BOOST_TEST(broker.wait_exit_code() == 0);
}

BOOST_AUTO_TEST_CASE(executable_exits_2_on_a_bad_flag) {
  Process broker({"--max-unacked", "lots"});
  BOOST_TEST(broker.wait_exit_code() == 2);
  BOOST_TEST(broker.read_all_stderr().find("--max-unacked") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(executable_exits_2_when_a_topic_cannot_be_created) {
  Process broker({"--listen", "127.0.0.1:0", "--topic", "/missing-namespace/t"});
  BOOST_TEST(broker.wait_exit_code() == 2);
  BOOST_TEST(broker.read_all_stderr().find("/missing-namespace/t") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(executable_exits_1_when_the_port_is_taken) {
  RunningBroker holder;
  Process broker({"--listen", holder.broker.address()});
  BOOST_TEST(broker.wait_exit_code() == 1);
  BOOST_TEST(broker.read_all_stderr().find(holder.broker.address()) != std::string::npos);
}

}  // namespace
}  // namespace danube::testkit::test
