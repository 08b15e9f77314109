#include "thread_names.hpp"

#include <filesystem>
#include <fstream>

namespace danube::test {

std::size_t threads_named(pid_t pid, const std::string& name) {
  std::size_t count = 0;
  std::error_code error;  // a thread may end while it is listed
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) ++count;
  }
  return count;
}

}  // namespace danube::test
