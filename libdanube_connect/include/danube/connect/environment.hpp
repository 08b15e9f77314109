#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace danube::connect {

// A snapshot of environment variables. Configuration loading reads the environment only
// through this, so tests can pass their own instead of changing the process environment.
class Environment {
 public:
  Environment() = default;
  // The process environment as it is now.
  static Environment process();
  static Environment from_map(std::map<std::string, std::string> variables);

  std::optional<std::string> get(std::string_view name) const;
  // Variables whose name starts with `prefix`, sorted by name.
  std::vector<std::pair<std::string, std::string>> with_prefix(std::string_view prefix) const;

  Environment& set(std::string name, std::string value);

 private:
  std::map<std::string, std::string, std::less<>> variables_;
};

}  // namespace danube::connect
