#include "danube/client/schema_registry.hpp"

#include "client_core.hpp"
#include "danube/SchemaRegistry.grpc.pb.h"
#include "proto_conversions.hpp"

namespace danube::client {
namespace {

template <class Request, class Response, class Method>
Result<Response> call_registry(detail::ClientCore& core, const std::string& what,
                               const Request& request, Method method) {
  Response response;
  const grpc::Status status = core.call_with_retries(
      what, nullptr, [&](grpc::ClientContext& context, detail::Connection& connection) {
        return (connection.schema_registry.*method)(&context, request, &response);
      });
  if (!status.ok()) return detail::to_error(what, status);
  return response;
}

}  // namespace

SchemaRegistryClient::SchemaRegistryClient(std::shared_ptr<detail::ClientCore> core)
    : core_(std::move(core)) {}

Result<RegisterSchemaResult> SchemaRegistryClient::register_schema(
    const RegisterSchemaRequest& registration) const {
  danube_schema::RegisterSchemaRequest request;
  request.set_subject(registration.subject);
  request.set_schema_type(registration.schema_type);
  request.set_schema_definition(registration.definition);
  request.set_description(registration.description);
  request.set_created_by(registration.created_by);
  for (const auto& tag : registration.tags)
    request.add_tags(tag);
  auto response =
      call_registry<danube_schema::RegisterSchemaRequest, danube_schema::RegisterSchemaResponse>(
          *core_, "RegisterSchema " + registration.subject, request,
          &danube_schema::SchemaRegistry::Stub::RegisterSchema);
  if (!response) return response.error();
  const auto& r = response.value();
  return RegisterSchemaResult{r.schema_id(), r.version(), r.is_new_version(), r.fingerprint()};
}

Result<RegisteredSchema> SchemaRegistryClient::get_schema(
    std::uint64_t schema_id, std::optional<std::uint32_t> version) const {
  danube_schema::GetSchemaRequest request;
  request.set_schema_id(schema_id);
  if (version) request.set_version(*version);
  auto response = call_registry<danube_schema::GetSchemaRequest, danube_schema::GetSchemaResponse>(
      *core_, "GetSchema " + std::to_string(schema_id), request,
      &danube_schema::SchemaRegistry::Stub::GetSchema);
  if (!response) return response.error();
  return detail::to_registered_schema(response.value());
}

Result<RegisteredSchema> SchemaRegistryClient::get_latest_schema(const std::string& subject) const {
  danube_schema::GetLatestSchemaRequest request;
  request.set_subject(subject);
  auto response =
      call_registry<danube_schema::GetLatestSchemaRequest, danube_schema::GetSchemaResponse>(
          *core_, "GetLatestSchema " + subject, request,
          &danube_schema::SchemaRegistry::Stub::GetLatestSchema);
  if (!response) return response.error();
  return detail::to_registered_schema(response.value());
}

Result<std::vector<SchemaVersionInfo>> SchemaRegistryClient::list_versions(
    const std::string& subject) const {
  danube_schema::ListVersionsRequest request;
  request.set_subject(subject);
  auto response =
      call_registry<danube_schema::ListVersionsRequest, danube_schema::ListVersionsResponse>(
          *core_, "ListVersions " + subject, request,
          &danube_schema::SchemaRegistry::Stub::ListVersions);
  if (!response) return response.error();
  std::vector<SchemaVersionInfo> versions;
  for (const auto& v : response.value().versions()) {
    versions.push_back(SchemaVersionInfo{.version = v.version(),
                                         .schema_id = v.schema_id(),
                                         .fingerprint = v.fingerprint(),
                                         .created_at = v.created_at(),
                                         .created_by = v.created_by(),
                                         .description = v.description()});
  }
  return versions;
}

Result<CompatibilityResult> SchemaRegistryClient::check_compatibility(
    const std::string& subject, const std::string& definition, const std::string& schema_type,
    std::optional<std::string> mode) const {
  danube_schema::CheckCompatibilityRequest request;
  request.set_subject(subject);
  request.set_new_schema_definition(definition);
  request.set_schema_type(schema_type);
  if (mode) request.set_compatibility_mode(*mode);
  auto response = call_registry<danube_schema::CheckCompatibilityRequest,
                                danube_schema::CheckCompatibilityResponse>(
      *core_, "CheckCompatibility " + subject, request,
      &danube_schema::SchemaRegistry::Stub::CheckCompatibility);
  if (!response) return response.error();
  CompatibilityResult result;
  result.compatible = response.value().is_compatible();
  result.errors.assign(response.value().errors().begin(), response.value().errors().end());
  return result;
}

Status SchemaRegistryClient::set_compatibility_mode(const std::string& subject,
                                                    const std::string& mode) const {
  danube_schema::SetCompatibilityModeRequest request;
  request.set_subject(subject);
  request.set_compatibility_mode(mode);
  auto response = call_registry<danube_schema::SetCompatibilityModeRequest,
                                danube_schema::SetCompatibilityModeResponse>(
      *core_, "SetCompatibilityMode " + subject, request,
      &danube_schema::SchemaRegistry::Stub::SetCompatibilityMode);
  if (!response) return response.error();
  if (!response.value().success()) {
    return Error(ErrorCategory::precondition, 0,
                 "SetCompatibilityMode " + subject + ": " + response.value().message());
  }
  return Done{};
}

}  // namespace danube::client
