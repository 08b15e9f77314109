#include "chaos_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace danube::chaos {
namespace {

using namespace std::chrono_literals;

// How often waits look at files, processes and endpoints again.
constexpr auto kPollInterval = 5ms;

std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> merged = overrides;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto name = text.substr(0, text.find('='));
    const bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const auto& own) {
      return std::string_view(own).substr(0, own.find('=')) == name;
    });
    if (!overridden) merged.emplace_back(text);
  }
  return merged;
}

// Owns a socket.
class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::int64_t millis_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

std::string ExitStatus::describe() const {
  std::ostringstream text;
  if (timed_out) {
    text << "still running after " << waited_ms << " ms";
  } else if (exited) {
    text << "exit code " << code << " after " << waited_ms << " ms";
  } else {
    text << "killed by signal " << signal << " (" << strsignal(signal) << ") after " << waited_ms
         << " ms";
  }
  return text.str();
}

// ---------------------------------------------------------------------------------------------
// Process

Process::Process(std::string name, std::vector<std::string> argv,
                 std::vector<std::string> environment, std::filesystem::path log_file)
    : name_(std::move(name)), log_file_(std::move(log_file)) {
  // Everything the child needs is built before fork(): the child only calls
  // async-signal-safe functions.
  std::vector<std::string> env_strings = merged_environment(environment);
  std::vector<char*> env;
  for (auto& entry : env_strings)
    env.push_back(entry.data());
  env.push_back(nullptr);
  std::vector<char*> args;
  for (auto& arg : argv)
    args.push_back(arg.data());
  args.push_back(nullptr);
  const int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_file_.string());
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log_fd);
    throw std::runtime_error("fork() failed");
  }
  if (pid_ == 0) {
    // A test that is itself killed (ctest timeout) takes its children with it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  ::close(log_fd);
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool Process::reap(bool block) {
  if (status_) return true;
  int raw = 0;
  const pid_t done = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  if (done != pid_) return false;
  ExitStatus status;
  status.exited = WIFEXITED(raw);
  status.code = status.exited ? WEXITSTATUS(raw) : -1;
  status.signal = WIFSIGNALED(raw) ? WTERMSIG(raw) : 0;
  status_ = status;
  return true;
}

bool Process::running() {
  return !reap(false);
}

void Process::signal(int signal_number) {
  if (!status_) ::kill(pid_, signal_number);
}

ExitStatus Process::wait(std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  if (!status_) wait_until([this] { return reap(false); }, timeout);
  if (!status_) {
    ExitStatus still;
    still.timed_out = true;
    still.waited_ms = millis_since(start);
    return still;
  }
  ExitStatus status = *status_;
  status.waited_ms = millis_since(start);
  return status;
}

ExitStatus Process::kill() {
  signal(SIGKILL);
  reap(true);
  return *status_;
}

// ---------------------------------------------------------------------------------------------
// Files and logs

std::vector<std::string> FileTail::read_new_lines() {
  std::vector<std::string> lines;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return lines;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;
  std::size_t start = 0;
  for (auto newline = partial_.find('\n'); newline != std::string::npos;
       newline = partial_.find('\n', start)) {
    lines.emplace_back(partial_, start, newline - start);
    start = newline + 1;
  }
  partial_.erase(0, start);
  return lines;
}

void LogWatcher::refresh() {
  for (auto& line : tail_.read_new_lines())
    lines_.push_back(std::move(line));
}

std::optional<std::string> LogWatcher::wait_for(std::string_view text,
                                                std::chrono::milliseconds timeout, std::size_t from,
                                                const std::function<bool()>& alive) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    // Looked at before the file is read again: a process that ended has written everything.
    const bool ended = alive && !alive();
    refresh();
    for (std::size_t i = from; i < lines_.size(); ++i) {
      if (lines_[i].find(text) != std::string::npos) return lines_[i];
    }
    if (ended || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::vector<std::string> LogWatcher::lines_with(std::string_view text) {
  refresh();
  std::vector<std::string> found;
  for (const auto& line : lines_) {
    if (line.find(text) != std::string::npos) found.push_back(line);
  }
  return found;
}

std::size_t LogWatcher::line_count() {
  refresh();
  return lines_.size();
}

std::string LogWatcher::tail(std::size_t count) {
  refresh();
  std::string text = "--- last lines of " + tail_.path().string() + " ---\n";
  for (std::size_t i = lines_.size() > count ? lines_.size() - count : 0; i < lines_.size(); ++i)
    text += lines_[i] + "\n";
  return text;
}

std::optional<std::string> log_field(std::string_view line, std::string_view key) {
  const std::string needle = std::string(key) + "=";
  for (auto at = line.find(needle); at != std::string_view::npos; at = line.find(needle, at + 1)) {
    if (at != 0 && line[at - 1] != ' ') continue;
    auto value = line.substr(at + needle.size());
    if (!value.empty() && value.front() == '"') {
      value.remove_prefix(1);
      return std::string(value.substr(0, value.find('"')));
    }
    return std::string(value.substr(0, value.find(' ')));
  }
  return std::nullopt;
}

std::vector<std::string> grep_logs(const std::vector<std::filesystem::path>& files,
                                   std::string_view text) {
  std::vector<std::string> found;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(text) != std::string::npos)
        found.push_back(file.filename().string() + ": " + line);
    }
  }
  return found;
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

ScratchDirectory::ScratchDirectory(const std::string& label) {
  path_ = std::filesystem::temp_directory_path() /
          ("danube-chaos-" + label + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(Clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(path_);
}

ScratchDirectory::~ScratchDirectory() {
  if (std::getenv("DANUBE_CHAOS_KEEP") != nullptr) {
    std::cout << "chaos: kept " << path_.string() << std::endl;
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

// ---------------------------------------------------------------------------------------------
// HTTP

std::optional<HttpReply> http_get(std::uint16_t port, const std::string& path) {
  const Socket socket;
  if (socket.get() < 0) return std::nullopt;
  const timeval timeout{2, 0};
  ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return std::nullopt;
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (::send(socket.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return std::nullopt;
  }
  std::string raw;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::recv(socket.get(), buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  const auto header_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || header_end == std::string::npos) return std::nullopt;
  HttpReply reply;
  reply.status = std::atoi(raw.substr(9, 3).c_str());
  reply.body = raw.substr(header_end + 4);
  return reply;
}

std::optional<double> scrape_metric(std::uint16_t port, std::string_view metric) {
  const auto reply = http_get(port, "/metrics");
  if (!reply || reply->status != 200) return std::nullopt;
  double sum = 0;
  std::istringstream lines(reply->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(metric, 0) != 0 || line.size() <= metric.size()) continue;
    const char next = line[metric.size()];
    if (next != '{' && next != ' ') continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Ledger

Ledger::Ledger(std::uint64_t expected) : expected_(expected), seen_(expected, false) {}

std::size_t Ledger::follow(std::filesystem::path output_file) {
  files_.push_back(File{FileTail(std::move(output_file)), 0});
  return files_.size() - 1;
}

std::optional<Ledger::Record> Ledger::parse(std::string_view line) {
  constexpr std::string_view kPrefix = "Test message #";
  constexpr std::string_view kMiddle = " - Timestamp: ";
  // Digits only, at least one, at most 18 (no overflow); nullopt otherwise.
  const auto number = [](std::string_view digits) -> std::optional<std::uint64_t> {
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
  };
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  // A record cut short anywhere before its timestamp is torn; one cut inside its timestamp
  // still names its number whole, but its timestamp is not trusted.
  const auto middle = line.find(kMiddle);
  if (middle == std::string_view::npos) return std::nullopt;
  const auto value = number(line.substr(0, middle));
  const auto timestamp = number(line.substr(middle + kMiddle.size()));
  if (!value || !timestamp) return std::nullopt;
  return Record{*value, static_cast<std::int64_t>(*timestamp)};
}

void Ledger::add(std::string_view line, File& file) {
  const auto record = parse(line);
  if (!record) {
    ++torn_;
    return;
  }
  if (record->number >= expected_) {
    ++foreign_;
    return;
  }
  ++records_;
  ++file.records;
  highest_ = std::max(highest_, record->number);
  latest_timestamp_ms_ = std::max(latest_timestamp_ms_, record->timestamp_ms);
  if (!seen_[record->number]) {
    seen_[record->number] = true;
    ++distinct_;
  } else {
    ++segment_duplicates_.back();
  }
}

void Ledger::poll() {
  for (auto& file : files_) {
    for (const auto& line : file.tail.read_new_lines())
      add(line, file);
  }
}

void Ledger::begin_segment() {
  poll();
  segment_duplicates_.push_back(0);
}

std::vector<std::uint64_t> Ledger::missing(std::size_t limit) const {
  std::vector<std::uint64_t> numbers;
  for (std::uint64_t n = 0; n < expected_ && numbers.size() < limit; ++n) {
    if (!seen_[n]) numbers.push_back(n);
  }
  return numbers;
}

// ---------------------------------------------------------------------------------------------
// Broker and connectors

BrokerProcess::BrokerProcess(std::filesystem::path binary, std::filesystem::path log_dir,
                             std::vector<std::string> arguments)
    : binary_(std::move(binary)), log_dir_(std::move(log_dir)), arguments_(std::move(arguments)) {}

void BrokerProcess::start() {
  // A restart binds the port the first start picked. Should another process have taken it
  // meanwhile (the broker exits at once), try again a few times before giving up.
  constexpr int kAttempts = 5;
  std::string failure;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ++starts_;
    std::vector<std::string> argv = {binary_.string(), "--listen", address_};
    argv.insert(argv.end(), arguments_.begin(), arguments_.end());
    const auto log_file = log_dir_ / ("broker." + std::to_string(starts_) + ".log");
    process_ = std::make_unique<Process>("broker", argv, std::vector<std::string>{}, log_file);
    LogWatcher log(log_file);
    const auto ready = log.wait_for("listening on", std::chrono::seconds(30), 0,
                                    [this] { return process_->running(); });
    if (ready) {
      address_ = ready->substr(ready->rfind(' ') + 1);
      return;
    }
    failure = log.tail();
    process_->kill();
  }
  throw std::runtime_error("the broker did not start:\n" + failure);
}

ExitStatus BrokerProcess::kill() {
  return process_->kill();
}

ExitStatus BrokerProcess::stop(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  auto status = process_->wait(timeout);
  if (status.timed_out) process_->kill();
  return status;
}

bool BrokerProcess::running() {
  return process_ && process_->running();
}

std::string ConnectorToml::render() const {
  std::ostringstream toml;
  toml << "danube_service_url = \"" << service_url << "\"\n"
       << "connector_name = \"" << connector_name << "\"\n"
       << "[processing]\n"
       << "metrics_port = 0\n"
       << "batch_size = " << batch_size << "\n"
       << "batch_timeout_ms = " << batch_timeout_ms << "\n"
       << "poll_interval_ms = " << poll_interval_ms << "\n"
       << "health_check_interval_ms = 1000\n"
       << "[http]\n"
       << "bind_address = \"127.0.0.1\"\n"
       << "[retry]\n"
       << "max_retries = 20\n"
       << "retry_backoff_ms = 50\n"
       << "max_backoff_ms = 500\n"
       << "[delivery]\n"
       << "max_inflight_records = " << max_inflight_records << "\n"
       << "[shutdown]\n"
       << "timeout_ms = " << shutdown_timeout_ms << "\n"
       << "[supervision]\n"
       << "on_fatal = \"" << (restart_on_fatal ? "restart" : "exit") << "\"\n"
       << "max_restarts = 100\n"
       << "restart_backoff_ms = 100\n"
       << "max_restart_backoff_ms = 1000\n"
       << extra;
  return toml.str();
}

ConnectorProcess::ConnectorProcess(std::string name, std::filesystem::path binary,
                                   std::filesystem::path config_file, std::filesystem::path log_dir)
    : name_(std::move(name)),
      binary_(std::move(binary)),
      config_file_(std::move(config_file)),
      log_dir_(std::move(log_dir)) {}

void ConnectorProcess::start(bool wait_running, std::chrono::milliseconds timeout) {
  ++starts_;
  const auto log_file = log_dir_ / (name_ + "." + std::to_string(starts_) + ".log");
  log_files_.push_back(log_file);
  std::vector<std::string> environment = environment_;
  environment.push_back("CONNECTOR_CONFIG_PATH=" + config_file_.string());
  process_ = std::make_unique<Process>(name_, std::vector<std::string>{binary_.string()},
                                       std::move(environment), log_file);
  log_ = std::make_unique<LogWatcher>(log_file);
  if (!wait_running) return;
  const auto alive = [this] { return process_->running(); };
  const auto http = log_->wait_for("event=http_listening", timeout, 0, alive);
  const auto address = http ? log_field(*http, "address") : std::nullopt;
  if (!address) {
    throw std::runtime_error(name_ + " did not start its HTTP server\n" + log_->tail());
  }
  http_port_ = static_cast<std::uint16_t>(std::stoi(address->substr(address->rfind(':') + 1)));
  if (!log_->wait_for("event=runtime_running", timeout, 0, alive)) {
    throw std::runtime_error(name_ + " did not reach runtime_running\n" + log_->tail());
  }
}

ExitStatus ConnectorProcess::kill() {
  return process_->kill();
}

void ConnectorProcess::signal(int signal_number) {
  process_->signal(signal_number);
}

ExitStatus ConnectorProcess::wait(std::chrono::milliseconds timeout) {
  return process_->wait(timeout);
}

bool ConnectorProcess::running() {
  return process_ && process_->running();
}

// ---------------------------------------------------------------------------------------------
// Figures

void print_figures(const std::string& scenario,
                   const std::vector<std::pair<std::string, std::string>>& figures) {
  std::string line = "chaos: " + scenario;
  for (const auto& [key, value] : figures)
    line += " " + key + "=" + value;
  std::cout << line << std::endl;
}

std::string summarize_ms(const std::vector<std::int64_t>& values) {
  if (values.empty()) return "-";
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const auto sum = std::accumulate(values.begin(), values.end(), std::int64_t{0});
  return std::to_string(*low) + "/" +
         std::to_string(sum / static_cast<std::int64_t>(values.size())) + "/" +
         std::to_string(*high);
}

std::uint64_t reported_lost(const std::filesystem::path& gap_file, std::size_t& gaps) {
  std::uint64_t lost = 0;
  gaps = 0;
  std::ifstream in(gap_file);
  const std::string key = "\"count\":";
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    lost += std::stoull(line.substr(at + key.size()));
    ++gaps;
  }
  return lost;
}

std::uint16_t free_loopback_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (socket_fd < 0 || ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (socket_fd >= 0) ::close(socket_fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(socket_fd);
  return ntohs(address.sin_port);
}

}  // namespace danube::chaos
