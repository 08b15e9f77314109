#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "danube/client/result.hpp"

namespace danube::client {

namespace detail {
class ClientCore;
}

// Schema types: bytes, string, number, avro, json_schema, protobuf.
// Compatibility modes: none, backward, forward, full.
struct SchemaRegistration {
  std::string subject;
  std::string schema_type;
  std::string definition;
  std::string description;
  std::string created_by;
  std::vector<std::string> tags;
};

struct RegisteredSchema {
  std::uint64_t schema_id = 0;
  std::uint32_t version = 0;
  bool is_new_version = false;
  std::string fingerprint;
};

struct SchemaInfo {
  std::uint64_t schema_id = 0;
  std::uint32_t version = 0;
  std::string subject;
  std::string schema_type;
  std::string definition;
  std::string description;
  std::uint64_t created_at = 0;
  std::string created_by;
  std::vector<std::string> tags;
  std::string fingerprint;
  std::string compatibility_mode;
};

struct SchemaVersionInfo {
  std::uint32_t version = 0;
  std::uint64_t created_at = 0;
  std::string created_by;
  std::string description;
  std::string fingerprint;
  std::uint64_t schema_id = 0;
};

struct CompatibilityResult {
  bool compatible = false;
  std::vector<std::string> errors;
};

// The broker's schema registry (package danube_schema, on the client port). Blocking calls.
class SchemaRegistryClient {
 public:
  explicit SchemaRegistryClient(std::shared_ptr<detail::ClientCore> core);

  Result<RegisteredSchema> register_schema(const SchemaRegistration& registration) const;
  Result<SchemaInfo> get_schema(std::uint64_t schema_id,
                                std::optional<std::uint32_t> version = std::nullopt) const;
  Result<SchemaInfo> get_latest_schema(const std::string& subject) const;
  Result<std::vector<SchemaVersionInfo>> list_versions(const std::string& subject) const;
  Result<CompatibilityResult> check_compatibility(
      const std::string& subject, const std::string& definition, const std::string& schema_type,
      std::optional<std::string> mode = std::nullopt) const;
  Status set_compatibility_mode(const std::string& subject, const std::string& mode) const;

 private:
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace danube::client
