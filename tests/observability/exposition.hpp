#pragma once

// What a /metrics answer (Prometheus text format) declares and holds.
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace danube::observability_test {

// Family name -> type ("counter", "gauge", "histogram", ...) from the "# TYPE" lines.
inline std::map<std::string, std::string> metric_families(const std::string& exposition) {
  std::map<std::string, std::string> families;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    std::string name, type;
    fields >> name >> type;
    families[name] = type;
  }
  return families;
}

// The names of the samples ("x_total", "x_seconds_bucket", "x_seconds_count", ...): what a
// PromQL expression selects.
inline std::set<std::string> sample_names(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

}  // namespace danube::observability_test
