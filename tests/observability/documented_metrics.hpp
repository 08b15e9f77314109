#pragma once

// The runtime's metrics as docs/observability.md lists them: its table's rows
// "| `danube_connector_<name>` | <type> | ...".
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace danube::observability_test {

inline std::map<std::string, std::string> documented_metric_families() {
  std::ifstream page(std::string(DANUBE_SOURCE_DIR) + "/docs/observability.md");
  const std::regex row(R"(^\| `(danube_connector_[a-z0-9_]+)` \| ([a-z]+) \|)");
  std::map<std::string, std::string> families;
  std::string line;
  std::smatch match;
  while (std::getline(page, line)) {
    if (std::regex_search(line, match, row)) families[match[1]] = match[2];
  }
  return families;
}

}  // namespace danube::observability_test
