#include "danube/runtime/run.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "command_line.hpp"
#include "common/supervision.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/config_loader.hpp"
#include "danube/runtime/embedding.hpp"
#include "danube/services/http_server.hpp"
#include "danube/services/logging.hpp"
#include "malloc_arenas.hpp"

namespace danube::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// A file descriptor closed when it goes.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The signals the run helpers handle; blocked in every thread, taken by the ShutdownGuard.
sigset_t handled_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

const char* signal_name(int signal) {
  return signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

// SIGTERM/SIGINT and the shutdown budget, on one thread. The first signal drains the attached
// runtime and arms the deadline with [shutdown] timeout_ms; a second one ends the process at once
// (130). When the deadline passes the process ends (3) whatever still runs — a connector call
// that never returns, a teardown that waits for a broker: the last guarantee behind the budget.
// The deadline is armed again when the runtime has stopped (the actor system's teardown and the
// HTTP server's stop get a budget of their own); the earliest deadline wins.
// The thread sleeps in ppoll on a signalfd and an eventfd (woken by arm() and the destructor)
// with the time left as its timeout: it wakes for nothing else.
class ShutdownGuard {
 public:
  // Throws std::system_error when the descriptors it waits on cannot be made.
  explicit ShutdownGuard(std::chrono::milliseconds budget)
      : budget_(budget),
        signals_(checked(make_signalfd(), "signalfd")),
        wake_(checked(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")),
        thread_([this] { watch(); }) {}
  ~ShutdownGuard() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake();
    thread_.join();
  }
  ShutdownGuard(const ShutdownGuard&) = delete;
  ShutdownGuard& operator=(const ShutdownGuard&) = delete;

  // Holds the runtime's handle until the returned object goes, and drains the runtime on the
  // first signal meanwhile (at once when a signal came while it was being spawned). Release it
  // before the actor system goes.
  [[nodiscard]] auto attach(connector_actor runtime) {
    {
      std::lock_guard lock(mutex_);
      runtime_ = std::move(runtime);
      phase_ = Phase::attached;
      if (signals_received_ > 0) caf::anon_send(runtime_, drain_atom::value);
    }
    struct Attached {
      ShutdownGuard& guard;
      ~Attached() {
        std::lock_guard lock(guard.mutex_);
        guard.runtime_ = nullptr;
        guard.phase_ = Phase::detached;
      }
    };
    return Attached{*this};
  }

  void arm(Clock::time_point deadline, std::string waiting_for) {
    {
      std::lock_guard lock(mutex_);
      waiting_for_ = std::move(waiting_for);
      if (deadline_ && *deadline_ <= deadline) return;
      deadline_ = deadline;
    }
    wake();
  }
  void waiting_for(std::string what) {
    std::lock_guard lock(mutex_);
    waiting_for_ = std::move(what);
  }

 private:
  static int checked(int fd, const char* what) {
    if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
    return fd;
  }
  static int make_signalfd() {
    const sigset_t signals = handled_signals();
    return ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof(one));
  }

  void watch() {
    std::array<pollfd, 2> watched{pollfd{signals_.get(), POLLIN, 0},
                                  pollfd{wake_.get(), POLLIN, 0}};
    std::unique_lock lock(mutex_);
    while (!done_) {
      const std::optional<Clock::time_point> deadline = deadline_;
      lock.unlock();
      timespec left{};
      if (deadline) {
        const auto nanoseconds = std::max<std::int64_t>(
            0,
            std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - Clock::now()).count());
        left = timespec{static_cast<time_t>(nanoseconds / 1'000'000'000),
                        static_cast<long>(nanoseconds % 1'000'000'000)};
      }
      for (auto& entry : watched)
        entry.revents = 0;
      ::ppoll(watched.data(), watched.size(), deadline ? &left : nullptr, nullptr);
      std::uint64_t wakes = 0;
      if (watched[1].revents & POLLIN) {
        [[maybe_unused]] const auto read = ::read(wake_.get(), &wakes, sizeof(wakes));
      }
      int signal = 0;
      signalfd_siginfo info{};
      if ((watched[0].revents & POLLIN) &&
          ::read(signals_.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        signal = static_cast<int>(info.ssi_signo);
      }
      lock.lock();
      if (signal != 0) on_signal(signal);
      if (deadline_ && Clock::now() >= *deadline_) {
        spdlog::error("event=shutdown_budget_exceeded action=exit code={} waiting_for=\"{}\"",
                      kExitDrainIncomplete, waiting_for_);
        spdlog::default_logger()->flush();
        std::_Exit(kExitDrainIncomplete);
      }
    }
  }

  // With the mutex held.
  void on_signal(int signal) {
    if (++signals_received_ > 1) {
      spdlog::warn("event=signal signal={} action=exit_now", signal_name(signal));
      spdlog::default_logger()->flush();
      std::_Exit(kExitSecondSignal);
    }
    if (phase_ == Phase::detached) {
      // The runtime has stopped already and the deadline is armed: nothing left to drain.
      spdlog::info("event=signal signal={} action=none reason=stopping", signal_name(signal));
      return;
    }
    spdlog::info("event=signal signal={} action=drain", signal_name(signal));
    const auto deadline = Clock::now() + budget_;
    if (!deadline_ || deadline < *deadline_) deadline_ = deadline;
    waiting_for_ = "the drain";
    if (runtime_) caf::anon_send(runtime_, drain_atom::value);
  }

  // Where the runtime is: not spawned yet (a signal then drains it once attached), attached,
  // or stopped and released.
  enum class Phase { spawning, attached, detached };

  const std::chrono::milliseconds budget_;
  std::mutex mutex_;
  std::optional<Clock::time_point> deadline_;
  std::string waiting_for_;
  connector_actor runtime_;
  Phase phase_ = Phase::spawning;
  int signals_received_ = 0;
  bool done_ = false;
  OwnedFd signals_;
  OwnedFd wake_;
  std::thread thread_;  // last: starts after the members it reads
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
  // Before any thread starts: threads take their arenas as they first allocate.
  const MallocArenaLimit arenas = limit_malloc_arenas();
  // Every thread started from here on inherits the mask: only the ShutdownGuard takes them.
  const sigset_t signals = handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  spdlog::info("event=starting connector={} config=\"{}\"", config.connector_name,
               config.describe());
  spdlog::info("event=malloc_arenas max={} source={}", arenas.value.empty() ? "-" : arenas.value,
               arenas.source);
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
  const int workers = options.scheduler_threads > 0 ? options.scheduler_threads
                      : config.sink_buffer.enabled  ? 2
                                                    : 1;
  system_config.set("scheduler.max-threads", workers);
  spdlog::info("event=actor_system workers={} policy={}", workers,
               options.scheduler_policy == SchedulerPolicy::sharing ? "sharing" : "stealing");
  system_config.set("logger.verbosity", caf::atom("quiet"));
  system_config.set("scheduler.policy", options.scheduler_policy == SchedulerPolicy::sharing
                                            ? caf::atom("sharing")
                                            : caf::atom("stealing"));
  system_config.add_error_category(runtime_error_category(), render_runtime_error);
  const std::chrono::milliseconds budget(config.shutdown.timeout_ms);
  std::optional<ShutdownGuard> guard;
  try {
    guard.emplace(budget);
  } catch (const std::system_error& error) {
    spdlog::error("event=signal_handling_failed error=\"{}\"", error.what());
    return kExitFailed;
  }
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
    const auto attached = guard->attach(runtime);
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
    guard->arm(Clock::now() + budget, "the actor system to stop");
  }
  guard->waiting_for("the HTTP server to stop");
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
