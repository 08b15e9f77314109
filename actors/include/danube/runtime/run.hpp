#pragma once

// The one-call main helpers: they own the actor system, the signal handling, the metrics and
// health HTTP server and the broker connection, and return the process exit code.
//
//   int main() {
//     return danube::runtime::run_sink(std::make_unique<MySink>(),
//                                      danube::runtime::RunOptions{.sections = {"mysink"}});
//   }
//
// No CAF or gRPC header is included here.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "danube/connect/config.hpp"
#include "danube/connect/sink_connector.hpp"
#include "danube/connect/source_connector.hpp"

namespace danube::runtime {

// Exit codes of the run helpers.
inline constexpr int kExitClean = 0;        // drained after SIGTERM/SIGINT
inline constexpr int kExitFailed = 1;       // the connector failed for good
inline constexpr int kExitConfigError = 2;  // invalid configuration, also when the connector's
                                            // initialize() finds it (the message names the key)
// The shutdown budget ([shutdown] timeout_ms, counted from the signal) ran out before the drain
// finished: what was in flight is redelivered (sinks) or polled again (sources); the log names
// the steps that did not finish.
inline constexpr int kExitDrainIncomplete = 3;
inline constexpr int kExitSecondSignal = 130;  // a second signal during the drain

// How the actor system's worker threads find work. `sharing` keeps one queue under a lock and
// lets idle workers sleep on a condition variable; `stealing` (CAF's default) gives each worker
// its own queue and makes idle workers poll in short sleeps. A connector runs a handful of
// actors, often on a small machine next to other processes, where polling costs more than it
// saves: on 2 cores an idle simple_sink used 1.8 % CPU with `stealing` and 0.1 % with `sharing`,
// and the demo pipeline (broker, source and sink processes) moved 15-25 % more messages per
// second with `sharing`.
enum class SchedulerPolicy { sharing, stealing };

struct RunOptions {
  // The connector's own TOML tables (e.g. "mqtt"), allowed by the config loader.
  std::vector<std::string> sections;
  // Worker threads of the actor system; connector calls, broker I/O and stream reads run on
  // threads of their own, so the actors' work is short. 0 (the default) chooses one, or two
  // with `[sink_buffer]`, whose consumers fsync the buffer on a worker: one worker saves a
  // thread and the hand-over between workers of every actor message (a 4-partition sink on 2
  // cores: 0.3-1.1 instead of 1.2-2.2 voluntary context switches per record over a bare client).
  int scheduler_threads = 0;
  SchedulerPolicy scheduler_policy = SchedulerPolicy::sharing;
  // Called with the configuration before it is validated: a connector's main gives SDK
  // settings defaults of its own where neither the file nor the environment set them
  // (`config.origins` holds a key such as "offsets.commit_interval_ms" for every setting they
  // set). May throw ConfigError.
  std::function<void(connect::ConnectorConfig&)> adjust_config;
  // For --check-config: validates the connector's own tables as initialize() would, without
  // connecting to anything, and throws ConfigError naming the key. Unset, --check-config checks
  // the SDK's settings (and whatever adjust_config checks).
  std::function<void(const connect::ConnectorConfig&)> check_config;
};

// Loads the config — from the file named by CONNECTOR_CONFIG_PATH when it is set, else from
// the environment (DANUBE_SERVICE_URL, CONNECTOR_NAME) — then runs. A configuration error is
// printed to stderr and returns kExitConfigError.
int run_sink(std::unique_ptr<connect::SinkConnector> connector, RunOptions options = {});
int run_source(std::unique_ptr<connect::SourceConnector> connector, RunOptions options = {});

// The same, with the command line every connector binary answers (pass main's argc and argv):
//   --help, --version
//   --config FILE     the configuration file (instead of CONNECTOR_CONFIG_PATH)
//   --check-config    load and validate, connecting to nothing; prints "config ok" or the
//                     problem with file, line and key; exit code 0 or kExitConfigError
//   --print-config    the effective SDK settings, each with where it came from (default, file
//                     and line, environment variable); secrets masked
// Without options it runs the connector.
int run_sink(int argc, char** argv, std::unique_ptr<connect::SinkConnector> connector,
             RunOptions options = {});
int run_source(int argc, char** argv, std::unique_ptr<connect::SourceConnector> connector,
               RunOptions options = {});

// Runs with a config the caller built. SIGTERM and SIGINT drain the runtime within
// [shutdown] timeout_ms and return kExitClean (kExitDrainIncomplete when the budget ran out);
// a second signal exits at once. The process ends within the budget whatever the broker or
// the connector does: when the budget is spent it logs what it waited for and exits.
int run_sink(std::unique_ptr<connect::SinkConnector> connector, connect::ConnectorConfig config,
             RunOptions options = {});
int run_source(std::unique_ptr<connect::SourceConnector> connector, connect::ConnectorConfig config,
               RunOptions options = {});

}  // namespace danube::runtime
