#include "registry_adapter.hpp"

#include "danube/connect/error.hpp"
#include "danube/connect/schema_type.hpp"

namespace danube::runtime {
namespace {

template <class T>
T value_or_throw(client::Result<T> result, std::string_view what) {
  if (!result) throw connect::ConnectorError::danube(result.error(), what);
  return std::move(result).value();
}

connect::RegisteredSchema to_registered(const client::SchemaInfo& info) {
  connect::RegisteredSchema schema;
  schema.schema_id = info.schema_id;
  schema.version = info.version;
  schema.subject = info.subject;
  schema.schema_type = info.schema_type;
  schema.definition = info.definition;
  schema.fingerprint = info.fingerprint;
  schema.compatibility_mode = info.compatibility_mode;
  return schema;
}

class ClientRegistryAdapter : public connect::SchemaRegistryClient {
 public:
  explicit ClientRegistryAdapter(client::DanubeClient client)
      : registry_(client.schema_registry()) {}

  connect::SchemaRegistration register_schema(const std::string& subject, connect::SchemaType type,
                                              const std::string& definition) override {
    client::SchemaRegistration request;
    request.subject = subject;
    request.schema_type = std::string(connect::to_string(type));
    request.definition = definition;
    request.created_by = "danube-connect";
    const auto registered =
        value_or_throw(registry_.register_schema(request), "register schema " + subject);
    return connect::SchemaRegistration{registered.schema_id, registered.version,
                                       registered.is_new_version, registered.fingerprint};
  }

  connect::RegisteredSchema get_schema(std::uint64_t schema_id,
                                       std::optional<std::uint32_t> version) override {
    return to_registered(value_or_throw(registry_.get_schema(schema_id, version),
                                        "get schema " + std::to_string(schema_id)));
  }

  connect::RegisteredSchema get_latest_schema(const std::string& subject) override {
    return to_registered(
        value_or_throw(registry_.get_latest_schema(subject), "get latest schema " + subject));
  }

  std::vector<connect::SchemaVersionInfo> list_versions(const std::string& subject) override {
    std::vector<connect::SchemaVersionInfo> versions;
    for (const auto& v :
         value_or_throw(registry_.list_versions(subject), "list schema versions " + subject)) {
      versions.push_back(connect::SchemaVersionInfo{v.version, v.schema_id, v.fingerprint,
                                                    v.created_at, v.created_by, v.description});
    }
    return versions;
  }

  connect::CompatibilityResult check_compatibility(const std::string& subject,
                                                   connect::SchemaType type,
                                                   const std::string& definition) override {
    const auto result = value_or_throw(
        registry_.check_compatibility(subject, definition, std::string(connect::to_string(type))),
        "check schema compatibility " + subject);
    return connect::CompatibilityResult{result.compatible, result.errors};
  }

 private:
  client::SchemaRegistryClient registry_;
};

}  // namespace

std::shared_ptr<connect::SchemaRegistryClient> make_registry_adapter(client::DanubeClient client) {
  return std::make_shared<ClientRegistryAdapter>(std::move(client));
}

}  // namespace danube::runtime
