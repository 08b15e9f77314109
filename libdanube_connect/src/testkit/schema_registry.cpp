#include "schema_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "schema_compatibility.hpp"
#include "schema_records.hpp"
#include "storage_files.hpp"

namespace danube::testkit::internal {
namespace {

using grpc::Status;
using grpc::StatusCode;

std::uint64_t now_seconds() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

Status unknown_subject(const std::string& subject) {
  return Status(StatusCode::NOT_FOUND, "schema subject '" + subject + "' not found");
}

Status unknown_schema_type(const std::string& type) {
  return Status(StatusCode::INVALID_ARGUMENT,
                "invalid schema_type '" + type +
                    "'; expected bytes, string, number, avro, json_schema or protobuf");
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    hex.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    hex.push_back(kHex[static_cast<unsigned char>(c) & 0x0F]);
  }
  return hex;
}

std::string from_hex(std::string_view hex) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::runtime_error("bad hex digit in schema registry file");
  };
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length in schema registry file");
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return bytes;
}

}  // namespace

const SchemaRegistry::Version* SchemaRegistry::Subject::latest() const {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (!it->deleted) return &*it;
  }
  return nullptr;
}

const SchemaRegistry::Version* SchemaRegistry::Subject::find(std::uint32_t version) const {
  if (version == 0 || version > versions.size()) return nullptr;
  const Version& found = versions[version - 1];
  return found.deleted ? nullptr : &found;
}

SchemaRegistry::SchemaRegistry(std::optional<std::filesystem::path> file) : file_(std::move(file)) {
  load();
}

const SchemaRegistry::Subject* SchemaRegistry::find_subject(const std::string& subject) const {
  const auto it = subjects_.find(subject);
  return it == subjects_.end() ? nullptr : &it->second;
}

void SchemaRegistry::fill(const std::string& subject_name, const Subject& subject,
                          const Version& version,
                          danube_schema::GetSchemaResponse* response) const {
  response->set_schema_id(subject.schema_id);
  response->set_version(version.version);
  response->set_subject(subject_name);
  response->set_schema_type(version.type);
  response->set_schema_definition(
      schema_definition_envelope(version.type, version.definition, version.fingerprint));
  response->set_description(version.description);
  response->set_created_at(version.created_at);
  response->set_created_by(version.created_by);
  for (const auto& tag : version.tags)
    response->add_tags(tag);
  response->set_fingerprint(version.fingerprint);
  response->set_compatibility_mode(subject.compatibility_mode);
}

Status SchemaRegistry::register_schema(const danube_schema::RegisterSchemaRequest& request,
                                       danube_schema::RegisterSchemaResponse* response) {
  if (request.subject().empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "subject must not be empty");
  }
  const auto type = normalize_schema_type(request.schema_type());
  if (!type) return unknown_schema_type(request.schema_type());
  if (const auto reason = invalid_definition_reason(*type, request.schema_definition());
      !reason.empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "invalid schema_definition: " + reason);
  }
  const std::string fingerprint = schema_fingerprint(*type, request.schema_definition());

  std::lock_guard lock(mutex_);
  auto [it, created] = subjects_.try_emplace(request.subject());
  Subject& subject = it->second;
  if (!created) {
    for (const auto& version : subject.versions) {
      if (!version.deleted && version.fingerprint == fingerprint && version.type == *type) {
        response->set_schema_id(subject.schema_id);
        response->set_version(version.version);
        response->set_is_new_version(false);
        response->set_fingerprint(fingerprint);
        return Status::OK;
      }
    }
    if (const Version* latest = subject.latest()) {
      const auto problems =
          compatibility_problems(subject.compatibility_mode, latest->type, latest->definition,
                                 *type, request.schema_definition());
      if (!problems.empty()) {
        std::string message = "schema is not " + subject.compatibility_mode +
                              " compatible with version " + std::to_string(latest->version);
        for (const auto& problem : problems)
          message += "; " + problem;
        return Status(StatusCode::FAILED_PRECONDITION, message);
      }
    }
  } else {
    subject.schema_id = next_schema_id_++;
    subject_by_id_[subject.schema_id] = request.subject();
  }
  Version version;
  version.version = static_cast<std::uint32_t>(subject.versions.size() + 1);
  version.type = *type;
  version.definition = request.schema_definition();
  version.description = request.description();
  version.created_by = request.created_by();
  version.tags.assign(request.tags().begin(), request.tags().end());
  version.fingerprint = fingerprint;
  version.created_at = now_seconds();
  subject.versions.push_back(version);
  response->set_schema_id(subject.schema_id);
  response->set_version(version.version);
  response->set_is_new_version(true);
  response->set_fingerprint(fingerprint);
  spdlog::info("event=schema_registered subject={} schema_id={} version={} type={}",
               request.subject(), subject.schema_id, version.version, version.type);
  save();
  return Status::OK;
}

Status SchemaRegistry::get_schema(const danube_schema::GetSchemaRequest& request,
                                  danube_schema::GetSchemaResponse* response) const {
  std::lock_guard lock(mutex_);
  const auto id = subject_by_id_.find(request.schema_id());
  if (id == subject_by_id_.end()) {
    return Status(StatusCode::NOT_FOUND,
                  "schema id " + std::to_string(request.schema_id()) + " not found");
  }
  const Subject& subject = subjects_.at(id->second);
  const Version* version =
      request.has_version() ? subject.find(request.version()) : subject.latest();
  if (version == nullptr) {
    return Status(
        StatusCode::NOT_FOUND,
        request.has_version()
            ? "version " + std::to_string(request.version()) + " of schema id " +
                  std::to_string(request.schema_id()) + " not found"
            : "schema id " + std::to_string(request.schema_id()) + " has no live version");
  }
  fill(id->second, subject, *version, response);
  return Status::OK;
}

Status SchemaRegistry::get_latest_schema(const danube_schema::GetLatestSchemaRequest& request,
                                         danube_schema::GetSchemaResponse* response) const {
  std::lock_guard lock(mutex_);
  const Subject* subject = find_subject(request.subject());
  if (subject == nullptr) return unknown_subject(request.subject());
  const Version* latest = subject->latest();
  if (latest == nullptr) {
    return Status(StatusCode::NOT_FOUND,
                  "schema subject '" + request.subject() + "' has no live version");
  }
  fill(request.subject(), *subject, *latest, response);
  return Status::OK;
}

Status SchemaRegistry::list_versions(const danube_schema::ListVersionsRequest& request,
                                     danube_schema::ListVersionsResponse* response) const {
  std::lock_guard lock(mutex_);
  const Subject* subject = find_subject(request.subject());
  if (subject == nullptr) return unknown_subject(request.subject());
  for (const auto& version : subject->versions) {
    if (version.deleted) continue;
    auto* info = response->add_versions();
    info->set_version(version.version);
    info->set_created_at(version.created_at);
    info->set_created_by(version.created_by);
    info->set_description(version.description);
    info->set_fingerprint(version.fingerprint);
    info->set_schema_id(subject->schema_id);
  }
  return Status::OK;
}

Status SchemaRegistry::check_compatibility(
    const danube_schema::CheckCompatibilityRequest& request,
    danube_schema::CheckCompatibilityResponse* response) const {
  const auto type = normalize_schema_type(request.schema_type());
  if (!type) return unknown_schema_type(request.schema_type());
  if (request.has_compatibility_mode() &&
      !is_valid_compatibility_mode(request.compatibility_mode())) {
    return Status(StatusCode::INVALID_ARGUMENT, "invalid compatibility_mode '" +
                                                    request.compatibility_mode() +
                                                    "'; expected none, backward, forward or full");
  }
  if (const auto reason = invalid_definition_reason(*type, request.new_schema_definition());
      !reason.empty()) {
    return Status(StatusCode::INVALID_ARGUMENT, "invalid new_schema_definition: " + reason);
  }
  std::lock_guard lock(mutex_);
  const Subject* subject = find_subject(request.subject());
  if (subject == nullptr) return unknown_subject(request.subject());
  const std::string mode =
      request.has_compatibility_mode() ? request.compatibility_mode() : subject->compatibility_mode;
  std::vector<std::string> problems;
  if (const Version* latest = subject->latest()) {
    problems = compatibility_problems(mode, latest->type, latest->definition, *type,
                                      request.new_schema_definition());
  }
  response->set_is_compatible(problems.empty());
  for (const auto& problem : problems)
    response->add_errors(problem);
  return Status::OK;
}

Status SchemaRegistry::delete_schema_version(
    const danube_schema::DeleteSchemaVersionRequest& request,
    danube_schema::DeleteSchemaVersionResponse* response) {
  std::lock_guard lock(mutex_);
  const auto it = subjects_.find(request.subject());
  if (it == subjects_.end()) return unknown_subject(request.subject());
  auto& versions = it->second.versions;
  const auto index = static_cast<std::size_t>(request.version());
  if (index == 0 || index > versions.size() || versions[index - 1].deleted) {
    return Status(StatusCode::NOT_FOUND, "version " + std::to_string(request.version()) +
                                             " of subject '" + request.subject() + "' not found");
  }
  versions[index - 1].deleted = true;
  save();
  response->set_success(true);
  response->set_message("deleted version " + std::to_string(request.version()) + " of subject '" +
                        request.subject() + "'");
  return Status::OK;
}

Status SchemaRegistry::set_compatibility_mode(
    const danube_schema::SetCompatibilityModeRequest& request,
    danube_schema::SetCompatibilityModeResponse* response) {
  if (!is_valid_compatibility_mode(request.compatibility_mode())) {
    return Status(StatusCode::INVALID_ARGUMENT, "invalid compatibility_mode '" +
                                                    request.compatibility_mode() +
                                                    "'; expected none, backward, forward or full");
  }
  std::lock_guard lock(mutex_);
  const auto it = subjects_.find(request.subject());
  if (it == subjects_.end()) return unknown_subject(request.subject());
  it->second.compatibility_mode = request.compatibility_mode();
  save();
  response->set_success(true);
  response->set_message("compatibility mode of '" + request.subject() + "' set to " +
                        request.compatibility_mode());
  return Status::OK;
}

Status SchemaRegistry::list_subjects(danube_schema::ListSubjectsResponse* response) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, subject] : subjects_) {
    auto* summary = response->add_subjects();
    summary->set_subject(name);
    summary->set_compatibility_mode(subject.compatibility_mode);
    summary->set_schema_id(subject.schema_id);
    if (const Version* latest = subject.latest()) {
      summary->set_schema_type(latest->type);
      summary->set_latest_version(latest->version);
      for (const auto& tag : latest->tags)
        summary->add_tags(tag);
    }
  }
  return Status::OK;
}

bool SchemaRegistry::has_subject(const std::string& subject) const {
  std::lock_guard lock(mutex_);
  return subjects_.count(subject) > 0;
}

std::optional<std::uint64_t> SchemaRegistry::schema_id_of(const std::string& subject) const {
  std::lock_guard lock(mutex_);
  const Subject* found = find_subject(subject);
  if (found == nullptr) return std::nullopt;
  return found->schema_id;
}

std::optional<SchemaRegistry::IdInfo> SchemaRegistry::describe_id(std::uint64_t schema_id) const {
  std::lock_guard lock(mutex_);
  const auto id = subject_by_id_.find(schema_id);
  if (id == subject_by_id_.end()) return std::nullopt;
  const Version* latest = subjects_.at(id->second).latest();
  return IdInfo{id->second, latest != nullptr ? latest->type : std::string{}};
}

void SchemaRegistry::save() const {
  if (!file_) return;
  nlohmann::json subjects = nlohmann::json::array();
  for (const auto& [name, subject] : subjects_) {
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& version : subject.versions) {
      versions.push_back({{"version", version.version},
                          {"type", version.type},
                          {"definition_hex", to_hex(version.definition)},
                          {"description", version.description},
                          {"created_by", version.created_by},
                          {"tags", version.tags},
                          {"fingerprint", version.fingerprint},
                          {"created_at", version.created_at},
                          {"deleted", version.deleted}});
    }
    subjects.push_back({{"subject", name},
                        {"schema_id", subject.schema_id},
                        {"compatibility_mode", subject.compatibility_mode},
                        {"versions", versions}});
  }
  const nlohmann::json document = {{"next_schema_id", next_schema_id_}, {"subjects", subjects}};
  try {
    write_file_atomically(*file_, document.dump(2), true);
  } catch (const std::exception& error) {
    // The in-memory registry stays authoritative; a later change retries the write.
    spdlog::error("event=schema_registry_save_failed error=\"{}\"", error.what());
  }
}

void SchemaRegistry::load() {
  if (!file_) return;
  const auto content = read_whole_file(*file_);
  if (!content) return;
  const auto document = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    throw std::runtime_error("schema registry file '" + file_->string() + "' is not valid JSON");
  }
  try {
    next_schema_id_ = document.at("next_schema_id").get<std::uint64_t>();
    for (const auto& entry : document.at("subjects")) {
      Subject subject;
      subject.schema_id = entry.at("schema_id").get<std::uint64_t>();
      subject.compatibility_mode = entry.at("compatibility_mode").get<std::string>();
      for (const auto& stored : entry.at("versions")) {
        Version version;
        version.version = stored.at("version").get<std::uint32_t>();
        const auto stored_type = stored.at("type").get<std::string>();
        version.type = normalize_schema_type(stored_type).value_or(stored_type);
        version.definition = from_hex(stored.at("definition_hex").get<std::string>());
        version.description = stored.at("description").get<std::string>();
        version.created_by = stored.at("created_by").get<std::string>();
        version.tags = stored.at("tags").get<std::vector<std::string>>();
        // Derived, not read: files written before the registry fingerprinted like Danube hold
        // the bare SHA-256 of the definition, and registering it again must still match.
        version.fingerprint = schema_fingerprint(version.type, version.definition);
        version.created_at = stored.at("created_at").get<std::uint64_t>();
        version.deleted = stored.at("deleted").get<bool>();
        subject.versions.push_back(std::move(version));
      }
      const auto name = entry.at("subject").get<std::string>();
      subject_by_id_[subject.schema_id] = name;
      subjects_.emplace(name, std::move(subject));
    }
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("schema registry file '" + file_->string() +
                             "' is malformed: " + error.what());
  }
}

}  // namespace danube::testkit::internal
