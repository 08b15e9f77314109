#pragma once

// A real connector process for tests that look at it from outside (/proc, its log):
// examples/simple_sink started through a shell that reports its pid (the connector keeps it
// across exec), inspected once its runtime runs, then stopped with SIGTERM.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace danube::runtime::test {

struct SinkProcessRun {
  bool running = false;  // it logged event=runtime_running in time
  std::string log;       // its whole output
  int status = -1;       // its exit status
};

// Runs `binary` with CONNECTOR_CONFIG_PATH=`config`; `shell_setup` runs in the shell first
// (e.g. "export NAME=value; "). `while_running` gets the connector's pid while it runs.
inline SinkProcessRun run_sink_process(const std::string& binary,
                                       const std::filesystem::path& config,
                                       const std::string& shell_setup,
                                       const std::function<void(pid_t)>& while_running) {
  using namespace std::chrono_literals;
  danube::test::ChildProcess sink(
      std::vector<std::string>{"/bin/sh", "-c",
                               shell_setup + "echo pid=$$; exec \"" + binary + "\" 2>&1"},
      std::vector<std::string>{"CONNECTOR_CONFIG_PATH=" + config.string()});
  SinkProcessRun run;
  const auto pid_line = sink.read_line(30s);
  if (!pid_line || !pid_line->starts_with("pid=")) {
    run.log = sink.read_rest(5s);
    return run;
  }
  const auto pid = static_cast<pid_t>(std::stol(pid_line->substr(4)));
  run.running = sink.read_until("event=runtime_running", run.log, 30s);
  if (run.running) while_running(pid);
  sink.signal(SIGTERM);
  run.log += sink.read_rest(30s);
  run.status = sink.wait(30s);
  return run;
}

}  // namespace danube::runtime::test
