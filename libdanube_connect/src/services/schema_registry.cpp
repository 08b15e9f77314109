#include "danube/services/schema_registry.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace danube::services {

bool is_not_found(const ConnectorError& error) {
  return error.kind() == ErrorKind::danube && error.client_error() &&
         error.client_error()->category() == client::ErrorCategory::not_found;
}

namespace {

constexpr int kGrpcNotFound = 5;

ConnectorError not_found(const std::string& what) {
  return ConnectorError::danube(
      client::Error(client::ErrorCategory::not_found, kGrpcNotFound, what + " not found"));
}

std::string fingerprint_of(const std::string& definition) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(definition.data()), definition.size(),
         digest.data());
  std::string hex;
  char byte[3];
  for (unsigned char c : digest) {
    std::snprintf(byte, sizeof(byte), "%02x", c);
    hex += byte;
  }
  return "sha256:" + hex;
}

}  // namespace

void InMemorySchemaRegistry::enter(const std::string& method) {
  ++calls_[method];
  if (failure_) throw *failure_;
}

const InMemorySchemaRegistry::Subject& InMemorySchemaRegistry::subject_or_throw(
    const std::string& subject) const {
  const auto it = subjects_.find(subject);
  if (it == subjects_.end() || it->second.versions.empty()) {
    throw not_found("schema subject '" + subject + "'");
  }
  return it->second;
}

RegisterSchemaResult InMemorySchemaRegistry::register_schema(const std::string& subject,
                                                             SchemaType type,
                                                             const std::string& definition) {
  std::lock_guard lock(mutex_);
  enter("register_schema");
  auto& entry = subjects_[subject];
  if (entry.schema_id == 0) {
    entry.schema_id = next_schema_id_++;
    entry.schema_type = std::string(to_string(type));
  }
  const std::string fingerprint = fingerprint_of(definition);
  for (const auto& existing : entry.versions) {
    if (existing.fingerprint == fingerprint) {
      return {entry.schema_id, existing.version, false, fingerprint};
    }
  }
  RegisteredSchema schema;
  schema.schema_id = entry.schema_id;
  schema.version = static_cast<std::uint32_t>(entry.versions.size() + 1);
  schema.subject = subject;
  schema.schema_type = std::string(to_string(type));
  schema.definition = definition;
  schema.fingerprint = fingerprint;
  schema.compatibility_mode = "backward";
  entry.versions.push_back(schema);
  return {schema.schema_id, schema.version, true, fingerprint};
}

RegisteredSchema InMemorySchemaRegistry::get_schema(std::uint64_t schema_id,
                                                    std::optional<std::uint32_t> version) {
  std::lock_guard lock(mutex_);
  enter("get_schema");
  for (const auto& [name, entry] : subjects_) {
    if (entry.schema_id != schema_id || entry.versions.empty()) continue;
    if (!version) return entry.versions.back();
    for (const auto& schema : entry.versions) {
      if (schema.version == *version) return schema;
    }
    throw not_found("schema id " + std::to_string(schema_id) + " version " +
                    std::to_string(*version));
  }
  throw not_found("schema id " + std::to_string(schema_id));
}

RegisteredSchema InMemorySchemaRegistry::get_latest_schema(const std::string& subject) {
  std::lock_guard lock(mutex_);
  enter("get_latest_schema");
  return subject_or_throw(subject).versions.back();
}

std::vector<SchemaVersionInfo> InMemorySchemaRegistry::list_versions(const std::string& subject) {
  std::lock_guard lock(mutex_);
  enter("list_versions");
  std::vector<SchemaVersionInfo> versions;
  for (const auto& schema : subject_or_throw(subject).versions) {
    SchemaVersionInfo info;
    info.version = schema.version;
    info.schema_id = schema.schema_id;
    info.fingerprint = schema.fingerprint;
    versions.push_back(std::move(info));
  }
  return versions;
}

CompatibilityResult InMemorySchemaRegistry::check_compatibility(const std::string& subject,
                                                                SchemaType type,
                                                                const std::string& definition) {
  std::lock_guard lock(mutex_);
  enter("check_compatibility");
  const auto& latest = subject_or_throw(subject).versions.back();
  if (!compatibility_rule_) return CompatibilityResult{.compatible = true, .errors = {}};
  return compatibility_rule_(latest, type, definition);
}

void InMemorySchemaRegistry::set_compatibility_rule(CompatibilityRule rule) {
  std::lock_guard lock(mutex_);
  compatibility_rule_ = std::move(rule);
}

void InMemorySchemaRegistry::fail_with(std::optional<ConnectorError> error) {
  std::lock_guard lock(mutex_);
  failure_ = std::move(error);
}

std::size_t InMemorySchemaRegistry::calls(const std::string& method) const {
  std::lock_guard lock(mutex_);
  const auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

}  // namespace danube::services
