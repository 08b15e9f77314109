#pragma once

// The effective configuration, setting by setting, for `--print-config` and the start-up log.
#include <string>
#include <vector>

#include "danube/connect/config.hpp"

namespace danube::connect {

struct EffectiveSetting {
  std::string key;     // "processing.batch_size", "connector_name"
  std::string value;   // as text; secrets as "<redacted>", unset optional values as "-"
  std::string source;  // "default", "/etc/c.toml:12", or an environment variable's name
};

// Every SDK setting of `config` (not the connector's own tables), in the order of the
// configuration reference, with where its value came from (`config.origins`). A value no file
// or variable set is "default", also when a connector's main changed the SDK's default.
std::vector<EffectiveSetting> effective_settings(const ConnectorConfig& config);

}  // namespace danube::connect
