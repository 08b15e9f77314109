#include "broker_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "danube/common/topic_name.hpp"

namespace danube::testkit {
namespace {

class BadFlag : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class Integer>
Integer parse_integer(const std::string& flag, const std::string& text, Integer minimum) {
  Integer value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < minimum) {
    throw BadFlag(flag + " expects an integer >= " + std::to_string(minimum) + ", got '" + text +
                  "'");
  }
  return value;
}

std::string read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw BadFlag("--jwt-secret-file: cannot read '" + path + "'");
  std::stringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    secret.pop_back();
  if (secret.empty()) throw BadFlag("--jwt-secret-file: '" + path + "' is empty");
  return secret;
}

// NAME[:partitions=N][:reliable|:non-reliable]; topic names cannot contain ':'.
TopicToCreate parse_topic_flag(const std::string& text) {
  TopicToCreate topic;
  std::size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    const auto end = std::min(text.find(':', start), text.size());
    const std::string part = text.substr(start, end - start);
    if (first) {
      std::string why;
      if (!parse_topic_name(part, &why)) {
        throw BadFlag("--topic: invalid topic name '" + part + "': " + why);
      }
      topic.name = part;
      first = false;
    } else if (part == "reliable") {
      topic.reliable = true;
    } else if (part == "non-reliable" || part == "non_reliable") {
      topic.reliable = false;
    } else if (part.rfind("partitions=", 0) == 0) {
      topic.partitions = parse_integer<std::size_t>("--topic partitions", part.substr(11), 1);
    } else {
      throw BadFlag("--topic: unknown option '" + part + "' in '" + text +
                    "'; expected partitions=N, reliable or non-reliable");
    }
    start = end + 1;
  }
  return topic;
}

}  // namespace

std::string broker_usage() {
  return R"(Usage: danube-embedded-broker [flags]

An in-process Danube-compatible broker for tests, demos and benchmarks.

  --listen ADDR                 listen address (default 127.0.0.1:6650; port 0 picks one)
  --data-dir DIR                persist reliable topics, cursors and schemas under DIR
                                (default: everything in memory)
  --fsync always|interval|never log fsync policy with --data-dir (default interval)
  --fsync-interval-ms N         fsync / cursor flush period (default 200)
  --max-unacked N               in-flight reliable messages per subscription (default 10)
  --ack-timeout-ms N            redeliver unacked messages after N ms (default 30000)
  --max-redelivery N            redeliveries before the poison policy applies (default 5)
  --redelivery-backoff-ms N     first redelivery backoff (default 1000)
  --redelivery-backoff-max-ms N backoff cap (default 60000)
  --poison-policy block|drop|dead-letter   (default block)
  --dead-letter-topic TOPIC     target of --poison-policy dead-letter
  --max-message-size BYTES      largest accepted payload (default 10485760)
  --dispatch lossless|danube-0.15
                                reliable dispatch (default lossless: a subscription gets
                                everything however far behind it falls). danube-0.15 loses
                                what the real Danube 0.15.1 broker loses: a subscription fed
                                from its live tail skips all but the newest 256 entries once it
                                is more than --max-unacked + 256 behind (skipped offsets are
                                never delivered; the cursor stops at the gap), cursors are
                                persisted only when they advance and at most every
                                --cursor-persist-interval-ms, never at shutdown, and Ack/Nack
                                for an unknown topic answer INTERNAL
  --cursor-persist-interval-ms N  with --dispatch danube-0.15: the least time between two
                                writes of a subscription's cursor (default 10000; 0: every
                                flush)
  --cluster-like                with --data-dir: like a Danube cluster-mode broker, each start
                                numbers new messages from offset 0 again while subscriptions
                                first replay old entries from their persisted cursor with
                                their old offsets (offsets are not unique across restarts)
  --reorder-every N             reliable subscriptions deliver every Nth entry after the one
                                behind it, as Danube 0.15.1 does with pipelined publishes
                                (default 0: in order)
  --namespace NAME              create namespace NAME besides "default" (repeatable)
  --no-auto-create              producers cannot create topics
  --topic NAME[:partitions=N][:reliable|:non-reliable]
                                create this topic at start (reliable unless told), so that
                                consumers can subscribe before the first producer (repeatable)
  --tls-cert FILE --tls-key FILE  serve TLS with this PEM certificate and key
  --jwt-secret SECRET           require HS256 JWTs signed with SECRET on every rpc
  --jwt-secret-file FILE        the same, reading the secret from FILE
  --log-level LEVEL             trace, debug, info, warn, error or off (default info)
  --help                        show this text

Prints "danube-embedded-broker listening on ADDR" once ready; stops on SIGINT or SIGTERM.
)";
}

BrokerCommandLine parse_broker_command_line(const std::vector<std::string>& args) {
  BrokerCommandLine result;
  auto& options = result.options;
  options.listen_address = "127.0.0.1:6650";

  CLI::App app("danube-embedded-broker");
  app.allow_windows_style_options(false);
  std::string data_dir, jwt_secret, jwt_secret_file, tls_cert, tls_key;
  std::int64_t fsync_interval_ms = options.fsync_interval.count();
  std::int64_t ack_timeout_ms = options.ack_timeout.count();
  std::int64_t backoff_ms = options.redelivery_backoff_initial.count();
  std::int64_t backoff_max_ms = options.redelivery_backoff_max.count();
  std::int64_t cursor_persist_ms = options.cursor_persist_interval.count();
  std::vector<std::string> namespaces, topics;
  bool no_auto_create = false;
  constexpr auto kMaxMillis = std::numeric_limits<std::int64_t>::max() / 1'000'000;
  const auto non_empty = CLI::Validator(
      [](const std::string& text) { return text.empty() ? std::string("must not be empty") : ""; },
      "NON-EMPTY");

  app.add_option("--listen", options.listen_address);
  auto* data_dir_option = app.add_option("--data-dir", data_dir)->check(non_empty);
  const std::map<std::string, FsyncPolicy> fsync_policies{{"always", FsyncPolicy::always},
                                                          {"interval", FsyncPolicy::interval},
                                                          {"never", FsyncPolicy::never}};
  std::string fsync = "interval";
  app.add_option("--fsync", fsync)->check(CLI::IsMember(fsync_policies));
  app.add_option("--fsync-interval-ms", fsync_interval_ms)
      ->check(CLI::Range(std::int64_t{1}, kMaxMillis));
  app.add_option("--max-unacked", options.max_unacked_messages)
      ->check(CLI::Range(1u, std::numeric_limits<std::uint32_t>::max()));
  app.add_option("--ack-timeout-ms", ack_timeout_ms)
      ->check(CLI::Range(std::int64_t{1}, kMaxMillis));
  app.add_option("--max-redelivery", options.max_redelivery_count);
  app.add_option("--redelivery-backoff-ms", backoff_ms)
      ->check(CLI::Range(std::int64_t{0}, kMaxMillis));
  app.add_option("--redelivery-backoff-max-ms", backoff_max_ms)
      ->check(CLI::Range(std::int64_t{0}, kMaxMillis));
  const std::map<std::string, PoisonPolicy> poison_policies{
      {"block", PoisonPolicy::block},
      {"drop", PoisonPolicy::drop},
      {"dead-letter", PoisonPolicy::dead_letter},
      {"dead_letter", PoisonPolicy::dead_letter}};
  std::string poison_policy = "block";
  app.add_option("--poison-policy", poison_policy)->check(CLI::IsMember(poison_policies));
  app.add_option("--dead-letter-topic", options.dead_letter_topic);
  app.add_option("--max-message-size", options.max_message_size)
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max()));
  const std::map<std::string, DispatchFidelity> dispatch_modes{
      {"lossless", DispatchFidelity::lossless},
      {"danube-0.15", DispatchFidelity::danube_0_15},
      {"danube_0_15", DispatchFidelity::danube_0_15}};
  std::string dispatch = "lossless";
  app.add_option("--dispatch", dispatch)->check(CLI::IsMember(dispatch_modes));
  app.add_option("--cursor-persist-interval-ms", cursor_persist_ms)
      ->check(CLI::Range(std::int64_t{0}, kMaxMillis));
  app.add_option("--reorder-every", options.reorder_every);
  app.add_flag("--cluster-like", options.cluster_like)
      ->disable_flag_override()
      ->needs(data_dir_option);
  app.add_option("--namespace", namespaces)->check(non_empty);
  app.add_option("--topic", topics);
  app.add_flag("--no-auto-create", no_auto_create)->disable_flag_override();
  auto* tls_cert_option = app.add_option("--tls-cert", tls_cert);
  auto* tls_key_option = app.add_option("--tls-key", tls_key);
  tls_cert_option->needs(tls_key_option);
  tls_key_option->needs(tls_cert_option);
  auto* secret_option = app.add_option("--jwt-secret", jwt_secret)->check(non_empty);
  app.add_option("--jwt-secret-file", jwt_secret_file)
      ->check(CLI::ExistingFile)
      ->excludes(secret_option);
  app.add_option("--log-level", result.log_level)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  try {
    // CLI11 takes the arguments in reverse order.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
    options.fsync = fsync_policies.at(fsync);
    options.poison_policy = poison_policies.at(poison_policy);
    options.dispatch_fidelity = dispatch_modes.at(dispatch);
    options.fsync_interval = std::chrono::milliseconds(fsync_interval_ms);
    options.ack_timeout = std::chrono::milliseconds(ack_timeout_ms);
    options.redelivery_backoff_initial = std::chrono::milliseconds(backoff_ms);
    options.redelivery_backoff_max = std::chrono::milliseconds(backoff_max_ms);
    options.cursor_persist_interval = std::chrono::milliseconds(cursor_persist_ms);
    if (!data_dir.empty()) options.data_dir = data_dir;
    options.namespaces.insert(options.namespaces.end(), namespaces.begin(), namespaces.end());
    for (const auto& topic : topics)
      result.topics.push_back(parse_topic_flag(topic));
    if (no_auto_create) options.auto_create_topics = false;
    if (!tls_cert.empty()) options.tls = TlsOptions{tls_cert, tls_key};
    if (!jwt_secret.empty()) options.jwt_secret = jwt_secret;
    if (!jwt_secret_file.empty()) options.jwt_secret = read_secret_file(jwt_secret_file);
    if (options.poison_policy == PoisonPolicy::dead_letter && options.dead_letter_topic.empty()) {
      throw BadFlag("--poison-policy dead-letter needs --dead-letter-topic");
    }
  } catch (const CLI::CallForHelp&) {
    result.action = BrokerCommandLine::Action::show_help;
  } catch (const CLI::ParseError& error) {
    result.action = BrokerCommandLine::Action::fail;
    result.error = error.what();
  } catch (const BadFlag& error) {
    result.action = BrokerCommandLine::Action::fail;
    result.error = error.what();
  }
  return result;
}

}  // namespace danube::testkit
