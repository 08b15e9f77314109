#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "danube/SchemaRegistry.pb.h"

namespace danube::testkit::internal {

// The subject/version part of danube_schema.SchemaRegistry (topic bindings live with topics).
//
// A subject gets one schema id, unique across subjects, at its first registration; its versions
// count from 1. Types are stored and answered by Danube's names (aliases accepted), with
// Danube's fingerprint, and GetSchema answers the definition in Danube's serde envelope
// (schema_records.hpp). Registering a definition the subject already has (same fingerprint and
// type) returns that version with is_new_version = false. A new definition must be compatible
// with the latest version under the subject's mode (default "backward"; see
// schema_compatibility.hpp for what is checked) or the call fails with FAILED_PRECONDITION.
// With a file, every change is written to it atomically; the definitions are stored as
// registered and fingerprints are computed again when it is loaded.
class SchemaRegistry {
 public:
  explicit SchemaRegistry(std::optional<std::filesystem::path> file);

  grpc::Status register_schema(const danube_schema::RegisterSchemaRequest& request,
                               danube_schema::RegisterSchemaResponse* response);
  grpc::Status get_schema(const danube_schema::GetSchemaRequest& request,
                          danube_schema::GetSchemaResponse* response) const;
  grpc::Status get_latest_schema(const danube_schema::GetLatestSchemaRequest& request,
                                 danube_schema::GetSchemaResponse* response) const;
  grpc::Status list_versions(const danube_schema::ListVersionsRequest& request,
                             danube_schema::ListVersionsResponse* response) const;
  grpc::Status check_compatibility(const danube_schema::CheckCompatibilityRequest& request,
                                   danube_schema::CheckCompatibilityResponse* response) const;
  grpc::Status delete_schema_version(const danube_schema::DeleteSchemaVersionRequest& request,
                                     danube_schema::DeleteSchemaVersionResponse* response);
  grpc::Status set_compatibility_mode(const danube_schema::SetCompatibilityModeRequest& request,
                                      danube_schema::SetCompatibilityModeResponse* response);
  grpc::Status list_subjects(danube_schema::ListSubjectsResponse* response) const;

  bool has_subject(const std::string& subject) const;
  std::optional<std::uint64_t> schema_id_of(const std::string& subject) const;
  // The subject a schema id belongs to, and the type of its latest version.
  struct IdInfo {
    std::string subject;
    std::string latest_type;
  };
  std::optional<IdInfo> describe_id(std::uint64_t schema_id) const;

 private:
  struct Version {
    std::uint32_t version = 0;
    std::string type;        // normalized
    std::string definition;  // as registered
    std::string description;
    std::string created_by;
    std::vector<std::string> tags;
    std::string fingerprint;
    std::uint64_t created_at = 0;  // seconds since the Unix epoch
    bool deleted = false;
  };
  struct Subject {
    std::uint64_t schema_id = 0;
    std::string compatibility_mode = "backward";
    std::vector<Version> versions;  // by version number, deleted ones kept as tombstones
    const Version* latest() const;
    const Version* find(std::uint32_t version) const;
  };

  const Subject* find_subject(const std::string& subject) const;
  void fill(const std::string& subject_name, const Subject& subject, const Version& version,
            danube_schema::GetSchemaResponse* response) const;
  void load();
  void save() const;

  const std::optional<std::filesystem::path> file_;
  mutable std::mutex mutex_;
  std::map<std::string, Subject> subjects_;
  std::map<std::uint64_t, std::string> subject_by_id_;
  std::uint64_t next_schema_id_ = 1;
};

}  // namespace danube::testkit::internal
