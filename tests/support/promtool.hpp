#pragma once

// `promtool check metrics` (from Debian's prometheus package, installed by scripts/setup.sh) on a
// /metrics answer: the Prometheus project's own judgement of names, units, types and help texts.
#include <optional>
#include <string>

namespace danube::test {

// The absolute path of `program` on PATH, or nullopt.
std::optional<std::string> find_on_path(const std::string& program);

struct PromtoolVerdict {
  int exit_code = -1;  // 0: accepted; 1: not parsable; 3: convention problems
  std::string output;  // what promtool printed (one problem per line)
  bool accepted() const { return exit_code == 0; }
};

// Runs promtool on `exposition` (Prometheus text format); nullopt when promtool is not installed.
// Throws when promtool cannot be started or does not finish within 60 s.
std::optional<PromtoolVerdict> promtool_check_metrics(const std::string& exposition);

}  // namespace danube::test
