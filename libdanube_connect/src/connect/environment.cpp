#include "danube/connect/environment.hpp"

#include <unistd.h>

namespace danube::connect {

Environment Environment::process() {
  Environment environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.variables_.emplace(std::string(text.substr(0, equals)),
                                   std::string(text.substr(equals + 1)));
  }
  return environment;
}

Environment Environment::from_map(std::map<std::string, std::string> variables) {
  Environment environment;
  for (auto& [name, value] : variables)
    environment.variables_.emplace(name, std::move(value));
  return environment;
}

std::optional<std::string> Environment::get(std::string_view name) const {
  const auto it = variables_.find(name);
  if (it == variables_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> Environment::with_prefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> matches;
  for (auto it = variables_.lower_bound(prefix);
       it != variables_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    matches.emplace_back(it->first, it->second);
  }
  return matches;
}

Environment& Environment::set(std::string name, std::string value) {
  variables_.insert_or_assign(std::move(name), std::move(value));
  return *this;
}

}  // namespace danube::connect
