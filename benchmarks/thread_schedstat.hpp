#pragma once

// Where a process's threads spent a stretch of time, from Linux's per-thread scheduler
// statistics (/proc/self/task/<tid>/schedstat: nanoseconds on a CPU, nanoseconds runnable but
// waiting for one, and the number of times it was put on a CPU). The waiting time is what a
// busy machine adds to every hand-over between threads, so it tells a latency benchmark which
// hand-overs cost it. Threads are grouped by a role the caller names for some thread ids and
// by their name (comm) otherwise; threads that start or end inside the stretch are counted
// only for the part both snapshots saw.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

namespace danube::bench {

inline std::int64_t current_thread_id() {
  return static_cast<std::int64_t>(syscall(SYS_gettid));
}

struct ThreadTimes {
  std::string name;
  std::uint64_t on_cpu_ns = 0;
  std::uint64_t waiting_ns = 0;  // runnable, waiting for a CPU
  std::uint64_t slices = 0;      // times put on a CPU
};

// Every thread of this process, by thread id.
inline std::map<std::int64_t, ThreadTimes> thread_times() {
  std::map<std::int64_t, ThreadTimes> result;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", error)) {
    ThreadTimes times;
    std::ifstream comm(entry.path() / "comm");
    std::getline(comm, times.name);
    std::ifstream stat(entry.path() / "schedstat");
    if (!(stat >> times.on_cpu_ns >> times.waiting_ns >> times.slices)) continue;
    result.emplace(std::stoll(entry.path().filename().string()), std::move(times));
  }
  return result;
}

// The difference between two snapshots, summed per group; `group_of(tid, name)` names it.
inline std::map<std::string, ThreadTimes> times_by_group(
    const std::map<std::int64_t, ThreadTimes>& before,
    const std::map<std::int64_t, ThreadTimes>& after,
    const std::function<std::string(std::int64_t, const std::string&)>& group_of) {
  std::map<std::string, ThreadTimes> groups;
  for (const auto& [tid, end] : after) {
    const auto start = before.find(tid);
    if (start == before.end()) continue;
    auto& group = groups[group_of(tid, end.name)];
    group.name = group_of(tid, end.name);
    group.on_cpu_ns += end.on_cpu_ns - start->second.on_cpu_ns;
    group.waiting_ns += end.waiting_ns - start->second.waiting_ns;
    group.slices += end.slices - start->second.slices;
  }
  return groups;
}

}  // namespace danube::bench
