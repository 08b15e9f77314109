#pragma once

// The chaos suite's harness: real processes (the embedded broker and connector executables)
// with their output in log files, waits on what those processes write (log lines, output
// files, /metrics), and a ledger that counts numbered records exactly.
//
// Nothing here sleeps for a fixed time to let something happen: every wait polls a condition
// (a file, a process status, an HTTP endpoint) until it holds or a deadline passes.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danube::chaos {

using Clock = std::chrono::steady_clock;

// Milliseconds elapsed since `start`.
std::int64_t millis_since(Clock::time_point start);
// Wall-clock milliseconds since the epoch (what simple_source stamps its records with).
std::int64_t wall_clock_ms();

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// How a child process ended.
struct ExitStatus {
  bool timed_out = false;  // still running when the wait gave up
  bool exited = false;     // ended through exit() (code is valid)
  int code = -1;
  int signal = 0;  // the signal that ended it, when it did not exit
  std::int64_t waited_ms = 0;

  bool clean() const { return exited && code == 0; }
  std::string describe() const;
};

// A child process started with posix_spawn; stdout and stderr are appended to `log_file`.
// The destructor SIGKILLs and reaps a child that is still running.
class Process {
 public:
  Process(std::string name, std::vector<std::string> argv, std::vector<std::string> environment,
          std::filesystem::path log_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& log_file() const { return log_file_; }

  // True while the child has not ended (reaps it when it has).
  bool running();
  void signal(int signal_number);
  // Waits for the child to end; timed_out is set when it still runs at the deadline.
  ExitStatus wait(std::chrono::milliseconds timeout);
  // SIGKILL, then reap.
  ExitStatus kill();
  // The exit status once reaped.
  const std::optional<ExitStatus>& status() const { return status_; }

 private:
  bool reap(bool block);

  std::string name_;
  std::filesystem::path log_file_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// Reads the complete lines appended to a file since the last call (the file may not exist
// yet). A last line without its newline is held back until the newline arrives.
class FileTail {
 public:
  explicit FileTail(std::filesystem::path path) : path_(std::move(path)) {}
  std::vector<std::string> read_new_lines();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::uint64_t offset_ = 0;
  std::string partial_;
};

// Every line of a process's log file; waits for the first line containing a text.
class LogWatcher {
 public:
  explicit LogWatcher(std::filesystem::path path) : tail_(std::move(path)) {}
  // The first line at or after line `from` that contains `text`, or nullopt after `timeout`
  // (or as soon as `alive` returns false, once the file holds nothing more).
  std::optional<std::string> wait_for(std::string_view text, std::chrono::milliseconds timeout,
                                      std::size_t from = 0,
                                      const std::function<bool()>& alive = {});
  // Lines containing `text` so far.
  std::vector<std::string> lines_with(std::string_view text);
  std::size_t line_count();
  // The last `count` lines, for failure messages.
  std::string tail(std::size_t count = 30);

 private:
  void refresh();
  FileTail tail_;
  std::vector<std::string> lines_;
};

// The value of `key=` in a log line ("event=http_listening address=0.0.0.0:4321" ->
// "0.0.0.0:4321" for "address").
std::optional<std::string> log_field(std::string_view line, std::string_view key);

// A TCP port on 127.0.0.1 that nothing listened on a moment ago (for servers the tests start:
// mosquitto, PostgreSQL); a caller retries with another when the server cannot bind it.
std::uint16_t free_loopback_port();

// HTTP/1.0 GET on 127.0.0.1:port; nullopt when nothing answers.
struct HttpReply {
  int status = 0;
  std::string body;
};
std::optional<HttpReply> http_get(std::uint16_t port, const std::string& path);
// The sum of every sample of a Prometheus metric (all label sets); nullopt when unreachable.
std::optional<double> scrape_metric(std::uint16_t port, std::string_view metric);

// Counts the numbered records that sinks wrote (one payload per line, "Test message #<n> -
// Timestamp: <t>" as simple_source makes them) across several output files. Every number in
// [0, expected) must show up; a number seen twice is a duplicate. Lines that are not a whole
// record (torn by a SIGKILL in the middle of a write) are counted apart.
//
// Segments attribute duplicates to the fault that caused them: the test starts a new segment
// after each kill, and every line read from then on belongs to it.
class Ledger {
 public:
  explicit Ledger(std::uint64_t expected);

  // Adds an output file to follow; returns its index.
  std::size_t follow(std::filesystem::path output_file);
  // Reads what every followed file gained since the last poll.
  void poll();
  // Reads the rest of every file, then starts a new segment.
  void begin_segment();

  std::uint64_t expected() const { return expected_; }
  std::uint64_t records() const { return records_; }  // whole records read, duplicates included
  std::uint64_t distinct() const { return distinct_; }
  std::uint64_t duplicates() const { return records_ - distinct_; }
  std::uint64_t lost() const { return expected_ - distinct_; }
  std::uint64_t torn() const { return torn_; }
  std::uint64_t foreign() const { return foreign_; }  // numbers outside [0, expected)
  std::uint64_t highest() const { return highest_; }  // the highest number seen (0 if none)
  // The latest "Timestamp:" (ms since the epoch, when the source made the record) seen.
  std::int64_t latest_timestamp_ms() const { return latest_timestamp_ms_; }
  std::uint64_t records_in(std::size_t file) const { return files_.at(file).records; }
  bool complete() const { return distinct_ == expected_; }
  // Duplicated records first read in each segment.
  const std::vector<std::uint64_t>& duplicates_per_segment() const { return segment_duplicates_; }
  // Up to `limit` numbers never seen, ascending.
  std::vector<std::uint64_t> missing(std::size_t limit = 20) const;

  struct Record {
    std::uint64_t number = 0;
    std::int64_t timestamp_ms = 0;
  };
  // Parses a whole record line; nullopt for anything else.
  static std::optional<Record> parse(std::string_view line);

 private:
  struct File {
    FileTail tail;
    std::uint64_t records = 0;
  };
  void add(std::string_view line, File& file);

  std::uint64_t expected_;
  std::vector<File> files_;
  std::vector<bool> seen_;
  std::uint64_t records_ = 0;
  std::uint64_t distinct_ = 0;
  std::uint64_t torn_ = 0;
  std::uint64_t foreign_ = 0;
  std::uint64_t highest_ = 0;
  std::int64_t latest_timestamp_ms_ = 0;
  std::vector<std::uint64_t> segment_duplicates_{0};
};

// A fresh directory under the system temp dir, removed with its content at the end
// (kept when DANUBE_CHAOS_KEEP is set, for post-mortems).
class ScratchDirectory {
 public:
  explicit ScratchDirectory(const std::string& label);
  ~ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_text_file(const std::filesystem::path& file, const std::string& text);

// The embedded broker as a process. The first start listens on a free port; restarts reuse
// that address, so connectors find the broker where they left it.
class BrokerProcess {
 public:
  BrokerProcess(std::filesystem::path binary, std::filesystem::path log_dir,
                std::vector<std::string> arguments);
  // Starts the broker and waits for its "listening on" line; throws when it does not come.
  void start();
  // SIGKILL, then reap.
  ExitStatus kill();
  // SIGTERM, then wait.
  ExitStatus stop(std::chrono::milliseconds timeout);
  bool running();
  const std::string& address() const { return address_; }
  std::string service_url() const { return "http://" + address_; }
  int starts() const { return starts_; }

 private:
  std::filesystem::path binary_;
  std::filesystem::path log_dir_;
  std::vector<std::string> arguments_;
  std::string address_ = "127.0.0.1:0";
  int starts_ = 0;
  std::unique_ptr<Process> process_;
};

// Common TOML for a connector of the suite: fast timers, an HTTP port of its own, one log
// level. `extra` is appended as is: whole tables the common part does not write (the
// connector's own table, [offsets], ...).
struct ConnectorToml {
  std::string service_url;
  std::string connector_name;
  std::uint64_t shutdown_timeout_ms = 10'000;
  bool restart_on_fatal = true;
  std::size_t batch_size = 500;
  std::uint64_t batch_timeout_ms = 20;
  std::uint64_t poll_interval_ms = 5;
  std::size_t max_inflight_records = 10'000;
  std::string extra;

  std::string render() const;
};

// A connector executable as a process: its config file, its log, its HTTP port.
class ConnectorProcess {
 public:
  // Writes nothing: `config_file` must exist. Each start() logs to <log_dir>/<name>.<n>.log.
  ConnectorProcess(std::string name, std::filesystem::path binary,
                   std::filesystem::path config_file, std::filesystem::path log_dir);
  // Starts the process; with `wait_running`, waits for event=runtime_running and the HTTP port.
  void start(bool wait_running = true,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ExitStatus kill();
  // Sends `signal_number` and records when, for stop_elapsed_ms.
  void signal(int signal_number);
  ExitStatus wait(std::chrono::milliseconds timeout);
  bool running();
  std::uint16_t http_port() const { return http_port_; }
  int starts() const { return starts_; }
  Process& process() { return *process_; }
  LogWatcher& log() { return *log_; }
  const std::string& name() const { return name_; }
  // "NAME=value" entries added to the environment of every later start (secrets, overrides).
  void set_environment(std::vector<std::string> environment) {
    environment_ = std::move(environment);
  }
  // Every log file this connector wrote, in start order.
  const std::vector<std::filesystem::path>& log_files() const { return log_files_; }

 private:
  std::string name_;
  std::filesystem::path binary_;
  std::filesystem::path config_file_;
  std::filesystem::path log_dir_;
  std::vector<std::string> environment_;
  int starts_ = 0;
  std::uint16_t http_port_ = 0;
  std::unique_ptr<Process> process_;
  std::unique_ptr<LogWatcher> log_;
  std::vector<std::filesystem::path> log_files_;
};

// Lines of every file in `files` that contain `text`, prefixed with the file name.
std::vector<std::string> grep_logs(const std::vector<std::filesystem::path>& files,
                                   std::string_view text);

// The messages a sink recorded as lost in its gap file: the sum of "count" over its lines;
// `gaps` is set to the number of lines.
std::uint64_t reported_lost(const std::filesystem::path& gap_file, std::size_t& gaps);

// Prints one line of figures to stdout ("chaos: <scenario> key=value ..."), flushed.
void print_figures(const std::string& scenario,
                   const std::vector<std::pair<std::string, std::string>>& figures);

// Summary of a list of durations: "min/avg/max" in ms, or "-" when empty.
std::string summarize_ms(const std::vector<std::int64_t>& values);

}  // namespace danube::chaos
