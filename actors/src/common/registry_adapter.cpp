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

class ClientRegistryAdapter : public services::SchemaRegistryClient {
 public:
  explicit ClientRegistryAdapter(client::DanubeClient client)
      : registry_(client.schema_registry()) {}

  RegisterSchemaResult register_schema(const std::string& subject, SchemaType type,
                                       const std::string& definition) override {
    RegisterSchemaRequest request;
    request.subject = subject;
    request.schema_type = std::string(to_string(type));
    request.definition = definition;
    request.created_by = "danube-connect";
    return value_or_throw(registry_.register_schema(request), "register schema " + subject);
  }

  RegisteredSchema get_schema(std::uint64_t schema_id,
                              std::optional<std::uint32_t> version) override {
    return value_or_throw(registry_.get_schema(schema_id, version),
                          "get schema " + std::to_string(schema_id));
  }

  RegisteredSchema get_latest_schema(const std::string& subject) override {
    return value_or_throw(registry_.get_latest_schema(subject), "get latest schema " + subject);
  }

  std::vector<SchemaVersionInfo> list_versions(const std::string& subject) override {
    return value_or_throw(registry_.list_versions(subject), "list schema versions " + subject);
  }

  CompatibilityResult check_compatibility(const std::string& subject, SchemaType type,
                                          const std::string& definition) override {
    return value_or_throw(
        registry_.check_compatibility(subject, definition, std::string(to_string(type))),
        "check schema compatibility " + subject);
  }

 private:
  client::SchemaRegistryClient registry_;
};

}  // namespace

std::shared_ptr<services::SchemaRegistryClient> make_registry_adapter(client::DanubeClient client) {
  return std::make_shared<ClientRegistryAdapter>(std::move(client));
}

}  // namespace danube::runtime
