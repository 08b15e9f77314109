#include "danube/services/protobuf_schema.hpp"

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "danube/connect/error.hpp"

namespace danube::services::protobuf {

namespace gp = google::protobuf;

struct Schema::Impl {
  std::unique_ptr<gp::DescriptorPool> pool;
  std::unique_ptr<gp::DynamicMessageFactory> factory;
  const gp::Descriptor* descriptor = nullptr;
  const gp::Message* prototype = nullptr;
  std::string message_type;
};

namespace {

constexpr const char* kFileName = "schema.proto";

// Collects the parser's and the pool builder's errors into one message.
class Errors final : public gp::io::ErrorCollector, public gp::DescriptorPool::ErrorCollector {
 public:
  void AddError(int line, gp::io::ColumnNumber column, const std::string& message) override {
    add("line " + std::to_string(line + 1) + " column " + std::to_string(column + 1) + ": " +
        message);
  }
  void AddError(const std::string&, const std::string& element_name, const gp::Message*,
                ErrorLocation, const std::string& message) override {
    add(element_name.empty() ? message : element_name + ": " + message);
  }
  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }

 private:
  void add(const std::string& message) {
    // A few errors are enough to fix the file; keep the message bounded.
    if (count_++ < 5) text_ += (text_.empty() ? "" : "; ") + message;
  }
  std::string text_;
  int count_ = 0;
};

[[noreturn]] void schema_error(const std::string& message) {
  throw ConnectorError::configuration("protobuf schema: " + message);
}

// Protobuf logs problems of untrusted payloads (invalid UTF-8 in a string field, ...) straight
// to stderr; we already report them as exceptions, so its log goes to spdlog at debug level.
void route_protobuf_logs_to_spdlog() {
  static std::once_flag once;
  std::call_once(once, [] {
    gp::SetLogHandler([](gp::LogLevel level, const char* file, int line, const std::string& text) {
      if (level == gp::LOGLEVEL_FATAL) {
        spdlog::critical("event=protobuf_log file={} line={} message=\"{}\"", file, line, text);
      } else {
        spdlog::debug("event=protobuf_log file={} line={} message=\"{}\"", file, line, text);
      }
    });
  });
}

std::string nesting_error() {
  return "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels";
}

// The line (from 1) where braces, brackets and angle brackets first nest deeper than
// kMaxNestingDepth, or 0. libprotoc's parser recurses once per nested block and per level of
// an aggregate option value ({a: {b: ...}}) with no limit of its own, and it recovers from
// syntax errors and parses on, so this counts over the whole text. Strings and comments are
// skipped as its tokenizer skips them; anything else only ever adds to the count.
int line_nested_too_deep(std::string_view text) {
  int line = 1;
  int depth = 0;
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < size; ++i) {
    const char c = text[i];
    const char next = i + 1 < size ? text[i + 1] : '\0';
    if (c == '\n') {
      ++line;
    } else if (c == '/' && next == '/') {
      while (i + 1 < size && text[i + 1] != '\n')
        ++i;
    } else if (c == '/' && next == '*') {
      for (i += 2; i < size && !(text[i] == '*' && i + 1 < size && text[i + 1] == '/'); ++i) {
        if (text[i] == '\n') ++line;
      }
      ++i;  // the closing slash
    } else if (c == '"' || c == '\'') {
      // A string ends at its quote or, unterminated, before the end of its line.
      while (i + 1 < size && text[i + 1] != c && text[i + 1] != '\n') {
        if (text[i + 1] == '\\' && i + 2 < size && text[i + 2] != '\n') ++i;
        ++i;
      }
      if (i + 1 < size && text[i + 1] == c) ++i;
    } else if (c == '{' || c == '[' || c == '<') {
      if (++depth > kMaxNestingDepth) return line;
    } else if ((c == '}' || c == ']' || c == '>') && depth > 0) {
      --depth;
    }
  }
  return 0;
}

// Whether `bytes` nest messages and groups deeper than kMaxNestingDepth: a walk of the wire
// format along `root`'s message fields, with an explicit stack. Only run on a payload protobuf
// refused, to say why; malformed parts end the walk with false.
bool nests_too_deep(const gp::Descriptor& root, std::string_view bytes) {
  struct Level {
    const gp::Descriptor* type;  // null inside an unknown group
    std::size_t end;             // SIZE_MAX for a group, which ends at its end-group tag
  };
  std::vector<Level> open{{&root, bytes.size()}};
  std::size_t at = 0;
  const auto read_varint = [&](std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
      const auto byte = static_cast<std::uint8_t>(bytes[at++]);
      value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  const auto skip = [&](std::uint64_t length) {
    if (length > bytes.size() - at) return false;
    at += static_cast<std::size_t>(length);
    return true;
  };
  while (!open.empty()) {
    if (at == open.back().end) {
      open.pop_back();
      continue;
    }
    std::uint64_t tag = 0;
    if (at > open.back().end || !read_varint(tag)) return false;
    const auto* field = open.back().type == nullptr
                            ? nullptr
                            : open.back().type->FindFieldByNumber(static_cast<int>(tag >> 3));
    std::uint64_t value = 0;
    switch (tag & 7) {
      case 0:
        if (!read_varint(value)) return false;
        break;
      case 1:
        if (!skip(8)) return false;
        break;
      case 5:
        if (!skip(4)) return false;
        break;
      case 2:
        if (!read_varint(value) || value > bytes.size() - at) return false;
        if (field != nullptr && field->type() == gp::FieldDescriptor::TYPE_MESSAGE) {
          open.push_back({field->message_type(), at + static_cast<std::size_t>(value)});
        } else {
          at += static_cast<std::size_t>(value);
        }
        break;
      case 3:
        open.push_back({field != nullptr && field->type() == gp::FieldDescriptor::TYPE_GROUP
                            ? field->message_type()
                            : nullptr,
                        SIZE_MAX});
        break;
      case 4:
        if (open.back().end != SIZE_MAX) return false;
        open.pop_back();
        break;
      default:
        return false;
    }
    // The root message is not nested: decoding allows kMaxNestingDepth levels below it.
    if (open.size() > static_cast<std::size_t>(kMaxNestingDepth) + 1) return true;
  }
  return false;
}

// True when the first token is `syntax`. Files without it are proto2; we say so explicitly
// because the parser would otherwise log a warning to stderr for each such schema.
bool declares_syntax(std::string_view proto_text) {
  gp::io::ArrayInputStream input(proto_text.data(), static_cast<int>(proto_text.size()));
  Errors ignored;
  gp::io::Tokenizer tokenizer(&input, &ignored);
  return tokenizer.Next() && tokenizer.current().text == "syntax";
}

}  // namespace

Schema Schema::parse(std::string_view proto_text, std::string_view message_type) {
  if (proto_text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    schema_error("definition too large");
  }
  if (const int line = line_nested_too_deep(proto_text)) {
    schema_error("line " + std::to_string(line) + ": " + nesting_error());
  }
  route_protobuf_logs_to_spdlog();
  Errors errors;
  gp::FileDescriptorProto file;
  {
    // Prepended on the first line, so reported line numbers stay those of the file.
    std::string text;
    if (!declares_syntax(proto_text)) {
      text = "syntax = \"proto2\"; ";
      text.append(proto_text);
      proto_text = text;
    }
    gp::io::ArrayInputStream input(proto_text.data(), static_cast<int>(proto_text.size()));
    gp::io::Tokenizer tokenizer(&input, &errors);
    gp::compiler::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (!parser.Parse(&tokenizer, &file) || !errors.empty()) schema_error(errors.text());
  }
  file.set_name(kFileName);

  auto impl = std::make_shared<Impl>();
  // The generated pool underneath resolves imports of the well-known types.
  impl->pool = std::make_unique<gp::DescriptorPool>(gp::DescriptorPool::generated_pool());
  const gp::FileDescriptor* descriptor_file = impl->pool->BuildFileCollectingErrors(file, &errors);
  if (!descriptor_file) schema_error(errors.empty() ? "cannot build the file" : errors.text());

  if (message_type.empty()) {
    if (descriptor_file->message_type_count() == 0) schema_error("the file defines no message");
    impl->descriptor = descriptor_file->message_type(0);
  } else {
    impl->descriptor = impl->pool->FindMessageTypeByName(std::string(message_type));
    if (!impl->descriptor) {
      std::string available;
      for (int i = 0; i < descriptor_file->message_type_count(); ++i) {
        available += (i ? ", " : "") + descriptor_file->message_type(i)->full_name();
      }
      schema_error("message '" + std::string(message_type) + "' not found (defined: " + available +
                   ")");
    }
  }
  impl->factory = std::make_unique<gp::DynamicMessageFactory>(impl->pool.get());
  impl->prototype = impl->factory->GetPrototype(impl->descriptor);
  impl->message_type = impl->descriptor->full_name();
  return Schema(std::move(impl));
}

std::string Schema::encode(const nlohmann::json& value) const {
  std::unique_ptr<gp::Message> message(impl_->prototype->New());
  gp::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  const auto status = gp::util::JsonStringToMessage(text, message.get(), options);
  if (!status.ok()) {
    throw ConnectorError::serialization("protobuf encode " + impl_->message_type + ": " +
                                        std::string(status.message()));
  }
  if (!message->IsInitialized()) {
    throw ConnectorError::serialization(
        "protobuf encode " + impl_->message_type +
        ": missing required fields: " + message->InitializationErrorString());
  }
  std::string out;
  if (!message->SerializeToString(&out)) {
    throw ConnectorError::serialization("protobuf encode " + impl_->message_type +
                                        ": serialization failed");
  }
  return out;
}

nlohmann::json Schema::decode(std::string_view bytes) const {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw ConnectorError::invalid_data("protobuf decode: payload too large");
  }
  std::unique_ptr<gp::Message> message(impl_->prototype->New());
  // ParsePartial + our own check: the plain Parse logs missing required fields to stderr.
  // Nested messages and groups are limited explicitly rather than by protobuf's process-wide
  // default, which anyone may change.
  gp::io::CodedInputStream input(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
  input.SetRecursionLimit(kMaxNestingDepth);
  if (!message->MergePartialFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
    throw ConnectorError::invalid_data(
        "protobuf decode " + impl_->message_type + ": malformed payload (" +
        std::to_string(bytes.size()) + " bytes" +
        (nests_too_deep(*impl_->descriptor, bytes) ? "; " + nesting_error() : "") + ")");
  }
  if (!message->IsInitialized()) {
    throw ConnectorError::invalid_data(
        "protobuf decode " + impl_->message_type +
        ": missing required fields: " + message->InitializationErrorString());
  }
  gp::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  const auto status = gp::util::MessageToJsonString(*message, &text, options);
  if (!status.ok()) {
    throw ConnectorError::invalid_data("protobuf decode " + impl_->message_type + ": " +
                                       std::string(status.message()));
  }
  // No JSON nesting check here: the text nests at most twice as deep as the message (a
  // repeated message field is an array of objects), which the recursion limit bounds.
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConnectorError::invalid_data("protobuf decode " + impl_->message_type +
                                       ": JSON conversion failed: " + e.what());
  }
}

nlohmann::json Schema::decode(std::span<const std::uint8_t> bytes) const {
  return decode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

const std::string& Schema::message_type() const {
  return impl_->message_type;
}

}  // namespace danube::services::protobuf
