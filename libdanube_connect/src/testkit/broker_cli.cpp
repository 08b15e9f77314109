#include "broker_cli.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
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

std::chrono::milliseconds parse_millis(const std::string& flag, const std::string& text,
                                       std::int64_t minimum) {
  return std::chrono::milliseconds(parse_integer<std::int64_t>(flag, text, minimum));
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
  result.options.listen_address = "127.0.0.1:6650";
  std::optional<std::filesystem::path> tls_cert, tls_key;
  bool have_secret = false;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string flag = args[i];
      std::optional<std::string> inline_value;
      if (const auto equals = flag.find('='); flag.rfind("--", 0) == 0 && equals != flag.npos) {
        inline_value = flag.substr(equals + 1);
        flag = flag.substr(0, equals);
      }
      const auto value = [&]() -> std::string {
        if (inline_value) return *inline_value;
        if (i + 1 >= args.size()) throw BadFlag(flag + " needs a value");
        return args[++i];
      };
      const auto no_value = [&] {
        if (inline_value) throw BadFlag(flag + " takes no value");
      };

      if (flag == "--help" || flag == "-h") {
        no_value();
        result.action = BrokerCommandLine::Action::show_help;
        return result;
      } else if (flag == "--listen") {
        result.options.listen_address = value();
      } else if (flag == "--data-dir") {
        const auto dir = value();
        if (dir.empty()) throw BadFlag("--data-dir needs a non-empty directory");
        result.options.data_dir = dir;
      } else if (flag == "--fsync") {
        const auto policy = value();
        if (policy == "always") {
          result.options.fsync = FsyncPolicy::always;
        } else if (policy == "interval") {
          result.options.fsync = FsyncPolicy::interval;
        } else if (policy == "never") {
          result.options.fsync = FsyncPolicy::never;
        } else {
          throw BadFlag("--fsync expects always, interval or never, got '" + policy + "'");
        }
      } else if (flag == "--fsync-interval-ms") {
        result.options.fsync_interval = parse_millis(flag, value(), 1);
      } else if (flag == "--max-unacked") {
        result.options.max_unacked_messages = parse_integer<std::uint32_t>(flag, value(), 1);
      } else if (flag == "--ack-timeout-ms") {
        result.options.ack_timeout = parse_millis(flag, value(), 1);
      } else if (flag == "--max-redelivery") {
        result.options.max_redelivery_count = parse_integer<std::uint32_t>(flag, value(), 0);
      } else if (flag == "--redelivery-backoff-ms") {
        result.options.redelivery_backoff_initial = parse_millis(flag, value(), 0);
      } else if (flag == "--redelivery-backoff-max-ms") {
        result.options.redelivery_backoff_max = parse_millis(flag, value(), 0);
      } else if (flag == "--poison-policy") {
        const auto policy = value();
        if (policy == "block") {
          result.options.poison_policy = PoisonPolicy::block;
        } else if (policy == "drop") {
          result.options.poison_policy = PoisonPolicy::drop;
        } else if (policy == "dead-letter" || policy == "dead_letter") {
          result.options.poison_policy = PoisonPolicy::dead_letter;
        } else {
          throw BadFlag("--poison-policy expects block, drop or dead-letter, got '" + policy + "'");
        }
      } else if (flag == "--dead-letter-topic") {
        result.options.dead_letter_topic = value();
      } else if (flag == "--max-message-size") {
        result.options.max_message_size = parse_integer<std::size_t>(flag, value(), 1);
      } else if (flag == "--dispatch") {
        const auto mode = value();
        if (mode == "lossless") {
          result.options.dispatch_fidelity = DispatchFidelity::lossless;
        } else if (mode == "danube-0.15" || mode == "danube_0_15") {
          result.options.dispatch_fidelity = DispatchFidelity::danube_0_15;
        } else {
          throw BadFlag("--dispatch expects lossless or danube-0.15, got '" + mode + "'");
        }
      } else if (flag == "--cursor-persist-interval-ms") {
        result.options.cursor_persist_interval = parse_millis(flag, value(), 0);
      } else if (flag == "--reorder-every") {
        result.options.reorder_every = parse_integer<std::uint32_t>(flag, value(), 0);
      } else if (flag == "--cluster-like") {
        no_value();
        result.options.cluster_like = true;
      } else if (flag == "--namespace") {
        const auto name = value();
        if (name.empty()) throw BadFlag("--namespace needs a non-empty name");
        result.options.namespaces.push_back(name);
      } else if (flag == "--topic") {
        result.topics.push_back(parse_topic_flag(value()));
      } else if (flag == "--no-auto-create") {
        no_value();
        result.options.auto_create_topics = false;
      } else if (flag == "--tls-cert") {
        tls_cert = value();
      } else if (flag == "--tls-key") {
        tls_key = value();
      } else if (flag == "--jwt-secret") {
        if (have_secret) throw BadFlag("--jwt-secret and --jwt-secret-file are exclusive");
        const auto secret = value();
        if (secret.empty()) throw BadFlag("--jwt-secret needs a non-empty secret");
        result.options.jwt_secret = secret;
        have_secret = true;
      } else if (flag == "--jwt-secret-file") {
        if (have_secret) throw BadFlag("--jwt-secret and --jwt-secret-file are exclusive");
        result.options.jwt_secret = read_secret_file(value());
        have_secret = true;
      } else if (flag == "--log-level") {
        const auto level = value();
        static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                         "warn",  "error", "off"};
        if (std::find(kLevels.begin(), kLevels.end(), level) == kLevels.end()) {
          throw BadFlag("--log-level expects trace, debug, info, warn, error or off, got '" +
                        level + "'");
        }
        result.log_level = level;
      } else {
        throw BadFlag("unknown flag '" + args[i] + "'");
      }
    }
    if (tls_cert.has_value() != tls_key.has_value()) {
      throw BadFlag(tls_cert ? "--tls-cert needs --tls-key" : "--tls-key needs --tls-cert");
    }
    if (tls_cert) result.options.tls = TlsOptions{*tls_cert, *tls_key};
    if (result.options.cluster_like && !result.options.data_dir) {
      throw BadFlag("--cluster-like needs --data-dir");
    }
    if (result.options.poison_policy == PoisonPolicy::dead_letter &&
        result.options.dead_letter_topic.empty()) {
      throw BadFlag("--poison-policy dead-letter needs --dead-letter-topic");
    }
  } catch (const BadFlag& error) {
    result.action = BrokerCommandLine::Action::fail;
    result.error = error.what();
  }
  return result;
}

}  // namespace danube::testkit
