#include "promtool.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "child_process.hpp"

namespace danube::test {

namespace {

// A temporary file removed at the end of the scope.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& stem) {
    std::string pattern = (std::filesystem::temp_directory_path() / (stem + ".XXXXXX")).string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed for " + pattern);
    ::close(fd);
    path_ = pattern;
  }
  ~TemporaryFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    if (directory.empty()) continue;
    const auto candidate = std::filesystem::path(directory) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

std::optional<PromtoolVerdict> promtool_check_metrics(const std::string& exposition) {
  const auto promtool = find_on_path("promtool");
  if (!promtool) return std::nullopt;
  const TemporaryFile input("promtool-input");
  const TemporaryFile output("promtool-output");
  std::ofstream(input.path(), std::ios::binary) << exposition;
  PromtoolVerdict verdict;
  // promtool reads the exposition from stdin; the shell gives it the file and keeps its report.
  ChildProcess check({"/bin/sh", "-c",
                      "exec " + shell_quote(*promtool) + " check metrics < " +
                          shell_quote(input.path()) + " > " + shell_quote(output.path()) +
                          " 2>&1"});
  // -1 when it has not finished within the minute (the child is killed on scope exit).
  verdict.exit_code = check.wait(std::chrono::seconds(60));
  verdict.output = read_file(output.path());
  return verdict;
}

}  // namespace danube::test
