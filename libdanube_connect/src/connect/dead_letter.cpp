#include "danube/connect/dead_letter.hpp"

#include "danube/connect/serialization.hpp"

namespace danube::connect {

namespace {

// Cut at a character boundary and replace invalid UTF-8, so the attribute is always valid text.
std::string bounded_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() < kDeadLetterErrorMaxBytes;) {
    std::size_t length = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xF0) {
      length = 4;
    } else if (c >= 0xE0) {
      length = 3;
    } else if (c >= 0xC0) {
      length = 2;
    }
    const auto piece = text.substr(i, length);
    if (piece.size() == length && serialization::is_valid_utf8(piece)) {
      if (out.size() + length > kDeadLetterErrorMaxBytes) break;
      out += piece;
      i += length;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

}  // namespace

SourceRecord make_dead_letter_record(const SinkRecord& record, const ConnectorError& error,
                                     std::string_view connector_name, std::string dead_letter_topic,
                                     std::uint32_t attempts) {
  namespace attr = dead_letter_attribute;
  SourceRecord dead(std::move(dead_letter_topic), record.payload());
  dead.with_attributes(record.attributes())
      .with_attribute(std::string(attr::error_kind), std::string(to_string(error.kind())))
      .with_attribute(std::string(attr::error), bounded_text(error.what()))
      .with_attribute(std::string(attr::connector), std::string(connector_name))
      .with_attribute(std::string(attr::source_topic), record.topic())
      .with_attribute(std::string(attr::source_partition_topic), record.partition_topic())
      .with_attribute(std::string(attr::source_offset), std::to_string(record.offset()))
      .with_attribute(std::string(attr::source_subscription), record.subscription())
      .with_attribute(std::string(attr::source_producer), record.producer_name())
      .with_attribute(std::string(attr::source_publish_time_us),
                      std::to_string(record.publish_time_us()))
      .with_attribute(std::string(attr::attempts), std::to_string(attempts));
  if (const auto& schema = record.schema()) {
    dead.with_attribute(std::string(attr::schema_subject), schema->subject)
        .with_attribute(std::string(attr::schema_version), std::to_string(schema->version));
  }
  if (record.routing_key()) dead.with_key(*record.routing_key());
  return dead;
}

}  // namespace danube::connect
