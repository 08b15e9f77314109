#pragma once

// What every chaos scenario shares: the executables it launches (their paths come from the
// build, see CMakeLists.txt), the configurations it writes, and waits that fail with the logs
// of the processes involved instead of hanging.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "danube/runtime/run.hpp"

namespace danube::chaos {

using namespace std::chrono_literals;

inline const std::filesystem::path kBrokerBinary = DANUBE_EMBEDDED_BROKER_PATH;
inline const std::filesystem::path kSimpleSourceBinary = SIMPLE_SOURCE_PATH;
inline const std::filesystem::path kSimpleSinkBinary = SIMPLE_SINK_PATH;
inline const std::filesystem::path kChaosSinkBinary = CHAOS_SINK_PATH;

// How long a scenario waits for any single step before it calls the step hung.
constexpr auto kStepTimeout = 60s;
// What a process may take beyond [shutdown] timeout_ms to be seen gone: the budget counts from
// the moment the run helper takes the signal; process exit and our 5 ms polling add the rest.
constexpr std::int64_t kExitSlackMs = 500;

// [simple_source]: `count` numbered messages, `batch` per poll, a poll every `interval_ms`.
struct SourceSettings {
  std::string topic;
  std::uint64_t count = 0;
  std::size_t partitions = 0;
  std::size_t keys = 0;
  std::size_t batch = 100;
  std::uint64_t interval_ms = 5;
  std::filesystem::path state_dir;
  std::uint64_t commit_interval_ms = 100;
};

inline std::string source_tables(const SourceSettings& source) {
  return "[offsets]\nstate_dir = \"" + source.state_dir.string() + "\"\n" +
         "commit_interval_ms = " + std::to_string(source.commit_interval_ms) + "\n" +
         "[simple_source]\ntopic = \"" + source.topic + "\"\n" +
         "message_count = " + std::to_string(source.count) + "\n" +
         "batch_size = " + std::to_string(source.batch) + "\n" +
         "interval_ms = " + std::to_string(source.interval_ms) + "\n" +
         "partitions = " + std::to_string(source.partitions) + "\n" +
         "keys = " + std::to_string(source.keys) + "\n";
}

// [simple_sink] appending every payload to `output`.
inline std::string simple_sink_table(const std::string& topic, const std::string& subscription,
                                     const std::filesystem::path& output) {
  // Its offsets beside the output: restarts of this sink keep their history, other runs do not.
  const auto state_dir = output.parent_path() / (output.stem().string() + "-sink-state");
  return "[offsets]\nstate_dir = \"" + state_dir.string() + "\"\n" + "[simple_sink]\ntopic = \"" +
         topic + "\"\nsubscription = \"" + subscription + "\"\nprint_every = 0\noutput_file = \"" +
         output.string() + "\"\n";
}

// [chaos_sink] (the fdatasync-ing test sink) appending every payload to `output`.
inline std::string chaos_sink_table(const std::string& topic, const std::string& subscription,
                                    const std::string& consumer, const std::string& type,
                                    const std::filesystem::path& output) {
  const auto state_dir = output.parent_path() / (output.stem().string() + "-sink-state");
  return "[offsets]\nstate_dir = \"" + state_dir.string() + "\"\n" + "[chaos_sink]\ntopic = \"" +
         topic + "\"\nsubscription = \"" + subscription + "\"\nconsumer_name = \"" + consumer +
         "\"\nsubscription_type = \"" + type + "\"\noutput_file = \"" + output.string() + "\"\n";
}

// Writes `toml` to <dir>/<name>.toml and returns the connector (not started).
inline std::unique_ptr<ConnectorProcess> make_connector(const ScratchDirectory& dir,
                                                        const std::string& name,
                                                        const std::filesystem::path& binary,
                                                        const ConnectorToml& toml) {
  const auto config = dir.path() / (name + ".toml");
  write_text_file(config, toml.render());
  return std::make_unique<ConnectorProcess>(name, binary, config, dir.path());
}

// Everything a failure message needs: the tail of each log.
inline std::string logs_of(const std::vector<ConnectorProcess*>& connectors) {
  std::string text;
  for (auto* connector : connectors)
    text += connector->log().tail(40);
  return text;
}

// Polls the ledger until `done` holds. Fails the test (with the logs) when it does not within
// `timeout`, or when one of `watched` ends on its own meanwhile.
inline bool wait_for_ledger(Ledger& ledger, const std::function<bool(const Ledger&)>& done,
                            std::chrono::milliseconds timeout,
                            const std::vector<ConnectorProcess*>& watched,
                            const std::string& what) {
  std::string ended;
  const bool ok = wait_until(
      [&] {
        ledger.poll();
        if (done(ledger)) return true;
        for (auto* connector : watched) {
          if (!connector->running()) {
            ended = connector->name() +
                    " ended on its own: " + connector->process().status()->describe() + "\n";
            return true;
          }
        }
        return false;
      },
      timeout);
  if (ok && ended.empty()) return true;
  BOOST_ERROR("waiting for " << what << ": " << (ended.empty() ? "timed out" : ended)
                             << " (records=" << ledger.records() << " distinct="
                             << ledger.distinct() << " of " << ledger.expected() << ")\n"
                             << logs_of(watched));
  return false;
}

// Sends `signal_number` to every connector at once; returns each one's exit status, with
// waited_ms counted from the signal to the moment its exit was seen. A connector still running
// after `timeout` is SIGKILLed (and reported as timed out).
inline std::vector<ExitStatus> signal_all(const std::vector<ConnectorProcess*>& connectors,
                                          int signal_number, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  for (auto* connector : connectors)
    connector->signal(signal_number);
  std::vector<std::optional<ExitStatus>> seen(connectors.size());
  wait_until(
      [&] {
        bool all = true;
        for (std::size_t i = 0; i < connectors.size(); ++i) {
          if (seen[i]) continue;
          if (connectors[i]->running()) {
            all = false;
            continue;
          }
          seen[i] = *connectors[i]->process().status();
          seen[i]->waited_ms = millis_since(start);
        }
        return all;
      },
      timeout);
  std::vector<ExitStatus> statuses;
  for (std::size_t i = 0; i < connectors.size(); ++i) {
    if (!seen[i]) {
      connectors[i]->kill();
      ExitStatus hung;
      hung.timed_out = true;
      hung.waited_ms = millis_since(start);
      seen[i] = hung;
    }
    statuses.push_back(*seen[i]);
  }
  return statuses;
}

inline std::string join(const std::vector<std::uint64_t>& values) {
  std::string text;
  for (const auto value : values)
    text += (text.empty() ? "" : ",") + std::to_string(value);
  return text.empty() ? "-" : text;
}

inline std::string join(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines)
    text += (text.empty() ? "" : "\n") + line;
  return text;
}

}  // namespace danube::chaos
