#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "danube/connect/error.hpp"
#include "danube/connect/schema_type.hpp"

namespace danube::services {

using connect::ConnectorError;
using connect::ErrorKind;

using danube::CompatibilityResult;
using danube::RegisteredSchema;
using danube::RegisterSchemaResult;
using danube::SchemaVersionInfo;

// Access to Danube's schema registry, as this library needs it. The runtime adapts the real
// client to it; tests use InMemorySchemaRegistry. Every method throws ConnectorError of kind
// danube on failure, with the client error's category (not_found for an unknown subject or id).
class SchemaRegistryClient {
 public:
  virtual ~SchemaRegistryClient() = default;

  virtual RegisterSchemaResult register_schema(const std::string& subject, SchemaType type,
                                               const std::string& definition) = 0;
  // A version of the schema with this id (nullopt = its latest).
  virtual RegisteredSchema get_schema(std::uint64_t schema_id,
                                      std::optional<std::uint32_t> version) = 0;
  virtual RegisteredSchema get_latest_schema(const std::string& subject) = 0;
  virtual std::vector<SchemaVersionInfo> list_versions(const std::string& subject) = 0;
  virtual CompatibilityResult check_compatibility(const std::string& subject, SchemaType type,
                                                  const std::string& definition) = 0;
};

// True for a ConnectorError of kind danube whose client category is not_found.
bool is_not_found(const ConnectorError& error);

// A thread-safe in-memory registry for tests: one schema id per subject, versions counting
// from 1, identical definitions deduplicated. Compatibility is decided by a replaceable
// function (default: always compatible). Counts calls, and can be told to fail.
class InMemorySchemaRegistry : public SchemaRegistryClient {
 public:
  using CompatibilityRule = std::function<CompatibilityResult(
      const RegisteredSchema& latest, SchemaType type, const std::string& definition)>;

  RegisterSchemaResult register_schema(const std::string& subject, SchemaType type,
                                       const std::string& definition) override;
  RegisteredSchema get_schema(std::uint64_t schema_id,
                              std::optional<std::uint32_t> version) override;
  RegisteredSchema get_latest_schema(const std::string& subject) override;
  std::vector<SchemaVersionInfo> list_versions(const std::string& subject) override;
  CompatibilityResult check_compatibility(const std::string& subject, SchemaType type,
                                          const std::string& definition) override;

  void set_compatibility_rule(CompatibilityRule rule);
  // Every following call throws this error until cleared with nullopt.
  void fail_with(std::optional<ConnectorError> error);

  // Calls per method name ("register_schema", "get_schema", ...).
  std::size_t calls(const std::string& method) const;

 private:
  struct Subject {
    std::uint64_t schema_id = 0;
    std::string schema_type;
    std::vector<RegisteredSchema> versions;
  };
  void enter(const std::string& method);
  const Subject& subject_or_throw(const std::string& subject) const;

  mutable std::mutex mutex_;
  std::map<std::string, Subject> subjects_;
  std::uint64_t next_schema_id_ = 1;
  CompatibilityRule compatibility_rule_;
  std::optional<ConnectorError> failure_;
  std::map<std::string, std::size_t> calls_;
};

}  // namespace danube::services
