#include "buffered_message_codec.hpp"

#include "danube/common/binary_frames.hpp"

namespace danube::runtime {
namespace {

constexpr char kVersion = 1;
constexpr unsigned char kHasSchemaId = 1U << 0;
constexpr unsigned char kHasSchemaVersion = 1U << 1;
constexpr unsigned char kHasRoutingKey = 1U << 2;

void append_text(std::string& out, std::string_view text) {
  binary::append_u32(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

// Consumes `bytes` front to back; any read past the end turns it into a failed reader.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool ok() const { return ok_; }
  bool at_end() const { return rest_.empty(); }

  std::uint8_t byte() {
    if (!take(1)) return 0;
    return static_cast<std::uint8_t>(taken_[0]);
  }
  std::uint32_t u32() { return take(4) ? binary::read_u32(taken_.data()) : 0; }
  std::uint64_t u64() { return take(8) ? binary::read_u64(taken_.data()) : 0; }
  std::string text() {
    const auto length = u32();
    return take(length) ? std::string(taken_) : std::string();
  }

 private:
  bool take(std::size_t count) {
    if (!ok_ || rest_.size() < count) {
      ok_ = false;
      taken_ = {};
      return false;
    }
    taken_ = rest_.substr(0, count);
    rest_.remove_prefix(count);
    return true;
  }

  std::string_view rest_;
  std::string_view taken_;
  bool ok_ = true;
};

}  // namespace

std::string encode_buffered_message(const client::ReceivedMessage& message) {
  std::string out;
  append_buffered_message(message, out);
  return out;
}

void append_buffered_message(const client::ReceivedMessage& message, std::string& out) {
  out.reserve(out.size() + message.payload.size() + message.id.topic_name.size() +
              message.topic.size() + 128);
  out.push_back(kVersion);
  unsigned char flags = 0;
  if (message.schema_id) flags |= kHasSchemaId;
  if (message.schema_version) flags |= kHasSchemaVersion;
  if (message.routing_key) flags |= kHasRoutingKey;
  out.push_back(static_cast<char>(flags));
  binary::append_u64(out, message.request_id);
  binary::append_u64(out, message.id.producer_id);
  binary::append_u64(out, message.id.topic_offset);
  binary::append_u64(out, message.publish_time);
  binary::append_u64(out, message.partition);
  if (message.schema_id) binary::append_u64(out, *message.schema_id);
  if (message.schema_version) binary::append_u32(out, *message.schema_version);
  append_text(out, message.id.topic_name);
  append_text(out, message.id.broker_addr);
  append_text(out, message.producer_name);
  append_text(out, message.subscription_name);
  append_text(out, message.topic);
  if (message.routing_key) append_text(out, *message.routing_key);
  binary::append_u32(out, static_cast<std::uint32_t>(message.attributes.size()));
  for (const auto& [key, value] : message.attributes) {
    append_text(out, key);
    append_text(out, value);
  }
  append_text(out, message.payload);
}

std::optional<client::ReceivedMessage> decode_buffered_message(std::string_view bytes) {
  Reader in(bytes);
  if (in.byte() != static_cast<std::uint8_t>(kVersion)) return std::nullopt;
  const auto flags = in.byte();
  client::ReceivedMessage message;
  message.request_id = in.u64();
  message.id.producer_id = in.u64();
  message.id.topic_offset = in.u64();
  message.publish_time = in.u64();
  message.partition = static_cast<std::size_t>(in.u64());
  if (flags & kHasSchemaId) message.schema_id = in.u64();
  if (flags & kHasSchemaVersion) message.schema_version = in.u32();
  message.id.topic_name = in.text();
  message.id.broker_addr = in.text();
  message.producer_name = in.text();
  message.subscription_name = in.text();
  message.topic = in.text();
  if (flags & kHasRoutingKey) message.routing_key = in.text();
  const auto attributes = in.u32();
  // Each attribute takes at least 8 bytes: a count beyond what is left is damage, not data.
  if (!in.ok() || attributes > bytes.size() / 8) return std::nullopt;
  for (std::uint32_t i = 0; i < attributes && in.ok(); ++i) {
    auto key = in.text();
    auto value = in.text();
    message.attributes.insert_or_assign(std::move(key), std::move(value));
  }
  message.payload = in.text();
  if (!in.ok() || !in.at_end()) return std::nullopt;
  return message;
}

}  // namespace danube::runtime
