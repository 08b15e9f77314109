#include "row_mapper.hpp"

#include <algorithm>

#include "danube/connect/error.hpp"

namespace danube::sink_postgres {

namespace {

using connect::ConnectorError;

std::string attributes_json(const connect::SinkRecord& record) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : record.attributes())
    object[name] = value;
  return object.dump();
}

std::optional<std::string> metadata_value(const connect::SinkRecord& record, MetadataField field) {
  switch (field) {
    case MetadataField::topic:
      return record.topic();
    case MetadataField::partition:
      // A topic without partitions is its own partition 0.
      return std::to_string(record.partition().value_or(0));
    case MetadataField::offset:
      return std::to_string(record.offset());
    case MetadataField::publish_time:
      return format_timestamp_us(static_cast<std::int64_t>(record.publish_time_us()));
    case MetadataField::routing_key:
      return record.routing_key();
    case MetadataField::attributes:
      return attributes_json(record);
    case MetadataField::producer:
      return record.producer_name();
  }
  return std::nullopt;
}

}  // namespace

RowMapper::RowMapper(const Route& route) : route_(&route) {
  const auto key = route.conflict_key();
  for (const auto& field : route.fields) {
    const bool in_key = std::find(key.begin(), key.end(), field.column) != key.end();
    columns_.push_back({field.column, field.type, !field.nullable || in_key});
    pointers_.emplace_back(field.json_pointer);
  }
  if (route.payload_column) columns_.push_back({*route.payload_column, ColumnType::jsonb, false});
  for (const auto& item : route.metadata) {
    const bool always_set = item.field == MetadataField::topic ||
                            item.field == MetadataField::partition ||
                            item.field == MetadataField::offset;
    columns_.push_back({item.column, column_type_of(item.field), always_set});
  }
  for (const auto& name : key) {
    const auto found = std::find_if(columns_.begin(), columns_.end(),
                                    [&](const auto& column) { return column.name == name; });
    key_positions_.push_back(static_cast<std::size_t>(found - columns_.begin()));
  }
  needs_json_ = !route.fields.empty() || route.payload_column.has_value();
}

Row RowMapper::map(const connect::SinkRecord& record) const {
  Row row;
  row.reserve(columns_.size());
  nlohmann::json value;
  if (needs_json_) value = record.as_json();  // invalid_data when the payload is not JSON
  const auto& fields = route_->fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& field = fields[i];
    const nlohmann::json* found = nullptr;
    try {
      if (value.contains(pointers_[i])) found = &value.at(pointers_[i]);
    } catch (const nlohmann::json::exception&) {
      // The pointer walks through a scalar ("/a/b" where a is a number): the field is absent.
    }
    std::optional<std::string> text;
    if (found) {
      text = to_sql_text(*found, field.type,
                         "field " + field.json_pointer + " (column " + field.column + ")");
    }
    if (!text && columns_[i].not_null) {
      throw ConnectorError::invalid_data("field " + field.json_pointer + " is " +
                                         (found ? "null" : "missing") + " but column " +
                                         field.column + " requires a value");
    }
    row.push_back(std::move(text));
  }
  if (route_->payload_column) {
    // A schema-decoded value is written as its JSON; otherwise the payload's own text, which
    // as_json() just proved to be JSON (PostgreSQL normalises jsonb itself).
    if (record.decoded_value()) {
      row.emplace_back(value.dump());
    } else {
      row.emplace_back(std::string(record.as_string()));
    }
  }
  for (const auto& item : route_->metadata)
    row.push_back(metadata_value(record, item.field));
  for (const auto position : key_positions_) {
    if (!row[position]) {
      throw ConnectorError::invalid_data("upsert key column " + columns_[position].name +
                                         " has no value");
    }
  }
  return row;
}

}  // namespace danube::sink_postgres
