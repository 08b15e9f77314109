#include "danube/connect/config_error.hpp"

namespace danube::connect {

namespace {
std::string render(const std::string& location, const std::string& key,
                   const std::string& problem) {
  std::string text = "config error: ";
  if (!location.empty()) text += location + ": ";
  if (!key.empty()) text += key + ": ";
  return text + problem;
}
}  // namespace

ConfigError::ConfigError(std::string location, std::string key, std::string problem)
    : ConnectorError(ErrorKind::configuration, render(location, key, problem)),
      location_(std::move(location)),
      key_(std::move(key)),
      problem_(std::move(problem)) {
  set_what_base(message());
}

}  // namespace danube::connect
