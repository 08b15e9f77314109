#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "danube/client/result.hpp"
#include "danube/common/schema.hpp"

namespace danube::client {

namespace detail {
class ClientCore;
}

using danube::CompatibilityResult;
using danube::RegisteredSchema;
using danube::RegisterSchemaRequest;
using danube::RegisterSchemaResult;
using danube::SchemaVersionInfo;

// The broker's schema registry (package danube_schema, on the client port). Blocking calls.
class SchemaRegistryClient {
 public:
  explicit SchemaRegistryClient(std::shared_ptr<detail::ClientCore> core);

  Result<RegisterSchemaResult> register_schema(const RegisterSchemaRequest& request) const;
  Result<RegisteredSchema> get_schema(std::uint64_t schema_id,
                                      std::optional<std::uint32_t> version = std::nullopt) const;
  Result<RegisteredSchema> get_latest_schema(const std::string& subject) const;
  Result<std::vector<SchemaVersionInfo>> list_versions(const std::string& subject) const;
  Result<CompatibilityResult> check_compatibility(
      const std::string& subject, const std::string& definition, const std::string& schema_type,
      std::optional<std::string> mode = std::nullopt) const;
  Status set_compatibility_mode(const std::string& subject, const std::string& mode) const;

 private:
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace danube::client
