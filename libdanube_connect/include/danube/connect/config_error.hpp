#pragma once

#include <string>

#include "danube/connect/error.hpp"

namespace danube::connect {

// The exit code of a process whose configuration is invalid.
inline constexpr int kConfigErrorExitCode = 2;

// An invalid configuration: a TOML syntax error, an unknown key, a wrong type, a value out of
// range, a bad environment variable. Its text names where and what:
//
//   config error: /etc/c.toml:12: [processing] batch_size: must be > 0 (got 0)
//   config error: DANUBE_CONNECT__PROCESSING__BATCH_SIZE: [processing] batch_size: expected an
//   integer (got "ten") config error: [retry] max_retries: must be <= 100 (got 500) (programmatic
//   config)
class ConfigError : public ConnectorError {
 public:
  // `location`: "file:line", an environment variable name, or empty. `key`: the key as shown
  // to users ("[processing] batch_size", "connector_name"), or empty for file-level problems.
  ConfigError(std::string location, std::string key, std::string problem);

  const std::string& location() const { return location_; }
  const std::string& key() const { return key_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string location_;
  std::string key_;
  std::string problem_;
};

}  // namespace danube::connect
