#pragma once

// What the scale-out tests share: waiting until the broker has every consumer's stream open
// (who gets a message on a Shared or KeyShared subscription depends on which streams are open,
// so these tests publish only after that), and reading a sink's output back in order.
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "chaos_fixture.hpp"

namespace danube::chaos {

// Waits until the broker logged an open stream (event=consumer_stream_attached) for `count`
// distinct (partition topic, consumer) pairs of `subscription`. Fails the test with the logs
// when that does not happen within kStepTimeout or one of `watched` ends meanwhile.
inline bool wait_for_streams(LogWatcher& broker_log, const std::string& subscription,
                             std::size_t count, const std::vector<ConnectorProcess*>& watched) {
  std::set<std::pair<std::string, std::string>> attached;
  std::string ended;
  const bool ok = wait_until(
      [&] {
        for (const auto& line : broker_log.lines_with("event=consumer_stream_attached")) {
          if (log_field(line, "subscription") != subscription) continue;
          attached.emplace(log_field(line, "topic").value_or(""),
                           log_field(line, "consumer").value_or(""));
        }
        if (attached.size() >= count) return true;
        for (auto* connector : watched) {
          if (!connector->running()) {
            ended = connector->name() + " ended on its own";
            return true;
          }
        }
        return false;
      },
      kStepTimeout);
  if (ok && ended.empty()) return true;
  BOOST_ERROR("waiting for " << count << " open streams on " << subscription << ": "
                             << (ended.empty() ? "timed out" : ended) << " (" << attached.size()
                             << " open)\n"
                             << broker_log.tail(20) << logs_of(watched));
  return false;
}

// The numbers of the whole records in a sink's output file, in the order it wrote them.
inline std::vector<std::uint64_t> numbers_in(const std::filesystem::path& output) {
  std::vector<std::uint64_t> numbers;
  std::ifstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (const auto record = Ledger::parse(line)) numbers.push_back(record->number);
  }
  return numbers;
}

// True when `numbers` ascend strictly; `where` names the first step down otherwise.
inline bool ascending(const std::vector<std::uint64_t>& numbers, std::string& where) {
  for (std::size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] <= numbers[i - 1]) {
      where = "#" + std::to_string(numbers[i]) + " after #" + std::to_string(numbers[i - 1]);
      return false;
    }
  }
  return true;
}

}  // namespace danube::chaos
