#include "postgres_settings.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "danube/connect/config_error.hpp"
#include "route_consumer.hpp"
#include "secrets.hpp"

namespace danube::sink_postgres {

namespace {

using connect::ConfigSection;

const std::vector<std::string> kPostgresKeys = {
    "connection",    "password_env",         "password_file", "schema",
    "insert_method", "connect_timeout_secs", "routes"};

const std::vector<std::string> kRouteKeys = {"from",          "to",
                                             "subscription",  "subscription_type",
                                             "consumer_name", "expected_schema_subject",
                                             "mode",          "upsert_key",
                                             "create_table",  "payload_column",
                                             "metadata",      "columns"};

const std::vector<std::string> kColumnKeys = {"column", "json_pointer", "type", "nullable"};

struct MetadataDefault {
  MetadataField field;
  std::string_view default_column;  // "" = not written unless configured
};

constexpr std::array kMetadataDefaults = {
    MetadataDefault{MetadataField::topic, "danube_topic"},
    MetadataDefault{MetadataField::partition, "danube_partition"},
    MetadataDefault{MetadataField::offset, "danube_offset"},
    MetadataDefault{MetadataField::publish_time, "danube_publish_time"},
    MetadataDefault{MetadataField::routing_key, "danube_routing_key"},
    MetadataDefault{MetadataField::attributes, "danube_attributes"},
    MetadataDefault{MetadataField::producer, ""},
};

// PostgreSQL identifiers are at most 63 bytes; longer ones are silently truncated, which would
// make the startup check compare the wrong names.
void check_identifier(const ConfigSection& section, std::string_view key, const std::string& name) {
  if (name.empty()) section.fail(key, "must not be empty");
  if (name.size() > 63) section.fail(key, "\"" + name + "\" is longer than 63 bytes");
  if (name.find('\0') != std::string::npos) section.fail(key, "must not contain NUL");
}

void read_table_name(const ConfigSection& entry, const std::string& default_schema, Route& route) {
  const std::string to = entry.require_string("to");
  const auto dot = to.find('.');
  if (dot == std::string::npos) {
    route.schema = default_schema;
    route.table = to;
  } else {
    route.schema = to.substr(0, dot);
    route.table = to.substr(dot + 1);
    if (route.table.find('.') != std::string::npos) {
      entry.fail("to", "expected \"table\" or \"schema.table\" (got \"" + to + "\")");
    }
  }
  check_identifier(entry, "to", route.schema);
  check_identifier(entry, "to", route.table);
}

std::vector<FieldColumn> read_fields(const ConfigSection& entry) {
  std::vector<FieldColumn> fields;
  for (const auto& column : entry.get_sections("columns")) {
    column.reject_unknown_keys(kColumnKeys);
    FieldColumn field;
    field.column = column.require_string("column");
    check_identifier(column, "column", field.column);
    field.json_pointer = column.get_string("json_pointer", "/" + field.column);
    try {
      (void)nlohmann::json::json_pointer(field.json_pointer);
    } catch (const nlohmann::json::exception& error) {
      column.fail("json_pointer",
                  "not a JSON pointer (\"/customer/id\"): " + std::string(error.what()));
    }
    const auto type = column.get_string("type", "text");
    const auto parsed = parse_column_type(type);
    if (!parsed)
      column.fail("type", "unknown type \"" + type + "\" (known: " + column_type_names() + ")");
    field.type = *parsed;
    field.nullable = column.get_bool("nullable", true);
    field.section = column;
    fields.push_back(std::move(field));
  }
  return fields;
}

std::vector<MetadataColumn> read_metadata(const ConfigSection& entry) {
  const auto table = entry.get_section("metadata");
  if (table) {
    std::vector<std::string> known;
    for (const auto& item : kMetadataDefaults)
      known.emplace_back(to_string(item.field));
    table->reject_unknown_keys(known);
  }
  std::vector<MetadataColumn> metadata;
  for (const auto& item : kMetadataDefaults) {
    const std::string key(to_string(item.field));
    const std::string column = table ? table->get_string(key, std::string(item.default_column))
                                     : std::string(item.default_column);
    if (column.empty()) continue;  // "" leaves the field out
    if (table) check_identifier(*table, key, column);
    metadata.push_back({item.field, column});
  }
  return metadata;
}

// Every column a route writes must be named once.
void check_distinct_columns(const ConfigSection& entry, const Route& route) {
  std::set<std::string> seen;
  auto add = [&](const std::string& column, std::string_view key) {
    if (!seen.insert(column).second) {
      entry.fail(key, "column \"" + column + "\" is written twice; give each value its own column");
    }
  };
  for (const auto& field : route.fields)
    add(field.column, "columns");
  if (route.payload_column) add(*route.payload_column, "payload_column");
  for (const auto& item : route.metadata)
    add(item.column, "metadata");
  if (seen.empty()) entry.fail("columns", "the route writes no column");
}

void read_mode(const ConfigSection& entry, Route& route) {
  const auto mode = entry.get_string("mode", "insert");
  if (mode == "insert") {
    route.mode = WriteMode::insert;
    if (entry.contains("upsert_key")) entry.fail("upsert_key", "only for mode = \"upsert\"");
    for (const auto field :
         {MetadataField::topic, MetadataField::partition, MetadataField::offset}) {
      if (!route.metadata_column(field)) {
        entry.fail("metadata", "mode = \"insert\" needs the " + std::string(to_string(field)) +
                                   " column: topic, partition and offset form the unique key that "
                                   "keeps redelivered messages from being written twice");
      }
    }
  } else if (mode == "upsert") {
    route.mode = WriteMode::upsert;
    route.upsert_key = entry.require_string_array("upsert_key");
    if (route.upsert_key.empty()) entry.fail("upsert_key", "needs at least one column");
    for (const auto& key : route.upsert_key) {
      const bool written = std::any_of(route.fields.begin(), route.fields.end(),
                                       [&](const auto& field) { return field.column == key; }) ||
                           std::any_of(route.metadata.begin(), route.metadata.end(),
                                       [&](const auto& item) { return item.column == key; });
      if (!written) {
        entry.fail("upsert_key", "\"" + key + "\" is not one of the route's columns ([[" +
                                     entry.path() + ".columns]] or metadata)");
      }
    }
  } else {
    entry.fail("mode", "must be \"insert\" or \"upsert\" (got \"" + mode + "\")");
  }
}

Route read_route(const ConfigSection& entry, const std::string& default_schema,
                 const std::string& connector_name, std::size_t index) {
  entry.reject_unknown_keys(kRouteKeys);
  Route route;
  route.section = entry;
  route.consumer = connectors::read_route_consumer(entry, connector_name, index);
  read_table_name(entry, default_schema, route);
  route.create_table = entry.get_bool("create_table", false);
  const auto payload = entry.get_string("payload_column", "payload");
  if (!payload.empty()) {
    check_identifier(entry, "payload_column", payload);
    route.payload_column = payload;
  }
  route.fields = read_fields(entry);
  route.metadata = read_metadata(entry);
  check_distinct_columns(entry, route);
  read_mode(entry, route);
  return route;
}

}  // namespace

std::string_view to_string(MetadataField field) {
  switch (field) {
    case MetadataField::topic:
      return "topic";
    case MetadataField::partition:
      return "partition";
    case MetadataField::offset:
      return "offset";
    case MetadataField::publish_time:
      return "publish_time";
    case MetadataField::routing_key:
      return "routing_key";
    case MetadataField::attributes:
      return "attributes";
    case MetadataField::producer:
      return "producer";
  }
  return "?";
}

ColumnType column_type_of(MetadataField field) {
  switch (field) {
    case MetadataField::partition:
      return ColumnType::integer;
    case MetadataField::offset:
      return ColumnType::bigint;
    case MetadataField::publish_time:
      return ColumnType::timestamptz;
    case MetadataField::attributes:
      return ColumnType::jsonb;
    default:
      return ColumnType::text;
  }
}

std::optional<std::string> Route::metadata_column(MetadataField field) const {
  for (const auto& item : metadata) {
    if (item.field == field) return item.column;
  }
  return std::nullopt;
}

std::vector<std::string> Route::conflict_key() const {
  if (mode == WriteMode::upsert) return upsert_key;
  return {*metadata_column(MetadataField::topic), *metadata_column(MetadataField::partition),
          *metadata_column(MetadataField::offset)};
}

PostgresSettings read_postgres_settings(const connect::ConnectorConfig& config,
                                        const EnvironmentLookup& environment) {
  const ConfigSection postgres = config.section("postgres");
  postgres.reject_unknown_keys(kPostgresKeys);
  PostgresSettings settings;

  const auto connection = postgres.get_string("connection", "");
  if (const auto problem = ConnectionString::problem(connection)) {
    postgres.fail("connection", *problem);
  }
  const auto timeout = postgres.get_integer("connect_timeout_secs", 10, 1, 3600);
  settings.connection = ConnectionString(connection, static_cast<int>(timeout));

  if (postgres.contains("password_env") && postgres.contains("password_file")) {
    postgres.fail("password_file", "set either password_env or password_file, not both");
  }
  if (const auto variable = postgres.get_string("password_env")) {
    if (variable->empty()) postgres.fail("password_env", "must name an environment variable");
    settings.password = environment(*variable);
    if (!settings.password) {
      postgres.fail("password_env", "the environment variable " + *variable + " is not set");
    }
  } else {
    settings.password = connectors::secret_from_file(postgres, "password_file");
  }

  const auto method = postgres.get_string("insert_method", "copy");
  if (method == "copy") {
    settings.insert_method = InsertMethod::copy;
  } else if (method == "insert") {
    settings.insert_method = InsertMethod::insert;
  } else {
    postgres.fail("insert_method", "must be \"copy\" or \"insert\" (got \"" + method + "\")");
  }

  const auto schema = postgres.get_string("schema", "public");
  check_identifier(postgres, "schema", schema);
  const auto entries = postgres.require_sections("routes");
  std::set<std::string> topics;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto route = read_route(entries[i], schema, config.connector_name, i);
    if (!topics.insert(route.consumer.topic).second) {
      entries[i].fail("from", route.consumer.topic + " already has a route; one topic, one table");
    }
    settings.routes.push_back(std::move(route));
  }
  return settings;
}

}  // namespace danube::sink_postgres
