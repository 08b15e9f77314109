#pragma once

// A child process whose stdout the test reads line by line, with deadlines, so a hung peer
// fails the test instead of hanging it.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace danube::test {

class ChildProcess {
 public:
  // Starts `argv[0]` with the given arguments and the parent's environment plus `environment`
  // ("NAME=value" entries, which win); stderr is inherited (it shows up in the log).
  explicit ChildProcess(const std::vector<std::string>& argv,
                        const std::vector<std::string>& environment = {});
  ~ChildProcess();  // kills the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next stdout line, or nullopt at end of output or when the deadline passes.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Reads lines until one contains `needle` (true) or output ends or the deadline passes
  // (false); every line read is appended to `output`.
  bool read_until(const std::string& needle, std::string& output,
                  std::chrono::milliseconds timeout);
  // Everything written until the child closes its output or the deadline passes.
  std::string read_rest(std::chrono::milliseconds timeout);
  // Waits for the child to exit; returns its exit status (-1 if killed or timed out).
  int wait(std::chrono::milliseconds timeout);
  // Sends `signal` (e.g. SIGTERM) to the child.
  void signal(int signal);

 private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  std::string pending_;
  bool eof_ = false;
};

}  // namespace danube::test
