#include "danube/runtime/run.hpp"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "command_line.hpp"
#include "common/supervision.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/config_loader.hpp"
#include "danube/runtime/embedding.hpp"
#include "danube/services/http_server.hpp"
#include "danube/services/logging.hpp"

namespace danube::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Ends the process when the shutdown budget is spent, whatever still runs (a connector call
// that never returns, a teardown that waits for a broker): the last guarantee behind
// [shutdown] timeout_ms. Armed by the first signal and again when the runtime has stopped;
// the earliest deadline wins.
class ShutdownWatchdog {
 public:
  ShutdownWatchdog() : thread_([this] { watch(); }) {}
  ~ShutdownWatchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  ShutdownWatchdog(const ShutdownWatchdog&) = delete;
  ShutdownWatchdog& operator=(const ShutdownWatchdog&) = delete;

  void arm(Clock::time_point deadline, std::string waiting_for) {
    {
      std::lock_guard lock(mutex_);
      if (deadline_ && *deadline_ <= deadline) {
        waiting_for_ = std::move(waiting_for);
        return;
      }
      deadline_ = deadline;
      waiting_for_ = std::move(waiting_for);
    }
    wake_.notify_all();
  }
  void waiting_for(std::string what) {
    std::lock_guard lock(mutex_);
    waiting_for_ = std::move(what);
  }

 private:
  void watch() {
    std::unique_lock lock(mutex_);
    while (!done_) {
      if (!deadline_) {
        wake_.wait(lock);
        continue;
      }
      if (wake_.wait_until(lock, *deadline_, [this] { return done_; })) return;
      if (Clock::now() < *deadline_) continue;  // re-armed earlier or spurious
      spdlog::error("event=shutdown_budget_exceeded action=exit code={} waiting_for=\"{}\"",
                    kExitDrainIncomplete, waiting_for_);
      spdlog::default_logger()->flush();
      std::_Exit(kExitDrainIncomplete);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Clock::time_point> deadline_;
  std::string waiting_for_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it reads
};

// Waits for SIGTERM/SIGINT on a thread of its own (the signals are blocked everywhere else):
// the first one drains the runtime and arms the watchdog with the shutdown budget, a second
// one ends the process at once.
class SignalWatcher {
 public:
  SignalWatcher(connector_actor runtime, ShutdownWatchdog& watchdog,
                std::chrono::milliseconds budget)
      : runtime_(std::move(runtime)), watchdog_(watchdog), budget_(budget) {
    thread_ = std::thread([this] { watch(); });
  }
  ~SignalWatcher() {
    stop_ = true;
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  static sigset_t handled_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    return signals;
  }

 private:
  void watch() {
    const sigset_t signals = handled_signals();
    int received = 0;
    while (!stop_) {
      // A short timeout lets the destructor end the thread without a signal of its own.
      const timespec wait{0, 200'000'000};
      const int signal = sigtimedwait(&signals, nullptr, &wait);
      if (signal < 0) continue;
      if (++received == 1) {
        spdlog::info("event=signal signal={} action=drain",
                     signal == SIGTERM ? "SIGTERM" : "SIGINT");
        watchdog_.arm(Clock::now() + budget_, "the drain");
        caf::anon_send(runtime_, drain_atom::value);
      } else {
        spdlog::warn("event=signal signal={} action=exit_now",
                     signal == SIGTERM ? "SIGTERM" : "SIGINT");
        spdlog::default_logger()->flush();
        std::_Exit(kExitSecondSignal);
      }
    }
  }

  connector_actor runtime_;
  ShutdownWatchdog& watchdog_;
  const std::chrono::milliseconds budget_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The exit code for the runtime's exit reason: a configuration error keeps its code 2 even
// when the connector's initialize() found it inside the actors.
int exit_code_for(const caf::error& reason) {
  if (!reason) return kExitClean;
  if (failure_kind(reason) == connect::ErrorKind::configuration) return kExitConfigError;
  if (is_drain_incomplete(reason)) return kExitDrainIncomplete;
  return kExitFailed;
}

connect::ConnectorConfig load_config(const RunOptions& options,
                                     const std::optional<std::filesystem::path>& file = {}) {
  if (file || std::getenv("CONNECTOR_CONFIG_PATH") != nullptr) {
    connect::ConfigLoader loader;
    for (const auto& section : options.sections)
      loader.allow_section(section);
    return file ? loader.load_file(*file) : loader.load();
  }
  return connect::ConnectorConfig::from_env();
}

int config_error(const std::exception& error) {
  std::cerr << error.what() << std::endl;
  return kExitConfigError;
}

template <class Connector, class Spawn>
int run(std::unique_ptr<Connector> connector, connect::ConnectorConfig config,
        const RunOptions& options, Spawn spawn) {
  try {
    if (options.adjust_config) options.adjust_config(config);
    config.validate();
    services::init_logging(services::LoggingOptions::from_config(config));
  } catch (const connect::ConnectorError& error) {
    return config_error(error);
  }
  // Every thread started from here on inherits the mask: only the watcher takes the signals.
  const sigset_t signals = SignalWatcher::handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  spdlog::info("event=starting connector={} config=\"{}\"", config.connector_name,
               config.describe());
  for (const auto& notice : config.ignored_keys)
    spdlog::warn("event=config_key_ignored detail=\"{}\"", notice);

  RuntimeServices services;
  std::optional<std::string> admin_token;
  try {
    services.client = make_client(config);
    admin_token = config.resolve_admin_token();
  } catch (const connect::ConnectorError& error) {
    return config_error(error);
  }
  services.metrics = std::make_shared<services::ConnectorMetrics>(config.connector_name);
  services.health = std::make_shared<services::HealthState>(config.connector_name);
  std::unique_ptr<services::HttpServer> http;
  if (config.http.enabled) {
    try {
      auto options = services::HttpServerOptions::from_config(config);
      options.admin_token = std::move(admin_token);
      const bool guarded = options.admin_token.has_value();
      http = std::make_unique<services::HttpServer>(std::move(options),
                                                    services.metrics->registry(), services.health);
      spdlog::info(
          "event=http_listening address={}:{} "
          "endpoints=/metrics,/health,/ready,/status,/pause,/resume admin={}",
          config.http.bind_address, http->port(), guarded ? "token" : "loopback_only");
    } catch (const connect::ConnectorError& error) {
      spdlog::error("event=http_failed error=\"{}\"", error.what());
      return kExitFailed;
    }
  }

  caf::actor_system_config system_config;
  system_config.set("scheduler.max-threads", std::max(1, options.scheduler_threads));
  system_config.set("logger.verbosity", caf::atom("quiet"));
  system_config.set("scheduler.policy", options.scheduler_policy == SchedulerPolicy::sharing
                                            ? caf::atom("sharing")
                                            : caf::atom("stealing"));
  system_config.add_error_category(runtime_error_category(), render_runtime_error);
  const std::chrono::milliseconds budget(config.shutdown.timeout_ms);
  ShutdownWatchdog watchdog;
  caf::error exit_reason;
  std::string rendered_reason;
  {
    caf::actor_system system{system_config};
    connector_actor runtime;
    try {
      runtime = spawn(system, std::move(connector), config, services);
    } catch (const connect::ConnectorError& error) {
      return config_error(error);
    }
    SignalWatcher watcher(runtime, watchdog, budget);
    if (http) http->attach_admin(make_admin_handler(system, runtime, services.health));
    caf::scoped_actor self{system};
    self->monitor(runtime);
    self->receive([&](const caf::down_msg& down) { exit_reason = down.reason; });
    rendered_reason = system.render(exit_reason);
    // The admin handler asks the runtime through an actor of its own: released here, after the
    // requests in progress, so that it is gone before the actor system.
    if (http) http->detach_admin();
    // What is left: actors still finishing (a connector call, broker I/O) and the system's
    // own teardown. It gets a budget of its own when no signal started one.
    watchdog.arm(Clock::now() + budget, "the actor system to stop");
  }
  watchdog.waiting_for("the HTTP server to stop");
  if (http) http->stop();
  const int code = exit_code_for(exit_reason);
  if (code != kExitClean) {
    spdlog::error("event=exit code={} reason=\"{}\"", code, rendered_reason);
    if (code == kExitConfigError && exit_reason.context().match_elements<std::string>()) {
      std::cerr << exit_reason.context().get_as<std::string>(0) << std::endl;
    }
    return code;
  }
  spdlog::info("event=exit code={}", kExitClean);
  return kExitClean;
}

// The command line in front of a run helper `run`.
template <class Connector, class Run>
int run_command_line(int argc, char** argv, std::unique_ptr<Connector> connector,
                     RunOptions options, Run run) {
  const CommandLine command = parse_command_line(argc, argv);
  if (command.action == CommandLine::Action::exit) return command.exit_code;
  connect::ConnectorConfig config;
  try {
    config = load_config(options, command.config_file);
  } catch (const connect::ConnectorError& error) {
    return config_error(error);
  }
  if (command.action != CommandLine::Action::run) {
    return report_config(command, options, std::move(config));
  }
  return run(std::move(connector), std::move(config), std::move(options));
}

}  // namespace

int run_sink(int argc, char** argv, std::unique_ptr<connect::SinkConnector> connector,
             RunOptions options) {
  return run_command_line(argc, argv, std::move(connector), std::move(options),
                          [](auto connector, auto config, auto options) {
                            return run_sink(std::move(connector), std::move(config),
                                            std::move(options));
                          });
}

int run_source(int argc, char** argv, std::unique_ptr<connect::SourceConnector> connector,
               RunOptions options) {
  return run_command_line(argc, argv, std::move(connector), std::move(options),
                          [](auto connector, auto config, auto options) {
                            return run_source(std::move(connector), std::move(config),
                                              std::move(options));
                          });
}

int run_sink(std::unique_ptr<connect::SinkConnector> connector, RunOptions options) {
  connect::ConnectorConfig config;
  try {
    config = load_config(options);
  } catch (const connect::ConnectorError& error) {
    return config_error(error);
  }
  return run_sink(std::move(connector), std::move(config), std::move(options));
}

int run_source(std::unique_ptr<connect::SourceConnector> connector, RunOptions options) {
  connect::ConnectorConfig config;
  try {
    config = load_config(options);
  } catch (const connect::ConnectorError& error) {
    return config_error(error);
  }
  return run_source(std::move(connector), std::move(config), std::move(options));
}

int run_sink(std::unique_ptr<connect::SinkConnector> connector, connect::ConnectorConfig config,
             RunOptions options) {
  return run(std::move(connector), std::move(config), options,
             [](caf::actor_system& system, auto connector, const auto& config, auto services) {
               return spawn_sink(system, std::move(connector), config, std::move(services));
             });
}

int run_source(std::unique_ptr<connect::SourceConnector> connector, connect::ConnectorConfig config,
               RunOptions options) {
  return run(std::move(connector), std::move(config), options,
             [](caf::actor_system& system, auto connector, const auto& config, auto services) {
               return spawn_source(system, std::move(connector), config, std::move(services));
             });
}

}  // namespace danube::runtime
