#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Conversions between payload bytes and values. Failures throw ConnectorError: decoding
// received bytes gives invalid_data, encoding values gives serialization.
namespace danube::connect::serialization {

// Compact JSON text.
std::string json_to_bytes(const nlohmann::json& value);
std::string json_to_pretty_string(const nlohmann::json& value);
// Parses JSON text (the whole input; trailing garbage is an error). Arrays and objects nested
// deeper than danube::kMaxJsonNestingDepth (128, danube/common/json_nesting.hpp) are rejected
// before parsing: such a document would overflow the stack when copied or dumped.
nlohmann::json json_from_bytes(std::span<const std::uint8_t> bytes);
nlohmann::json json_from_bytes(std::string_view bytes);

bool is_valid_utf8(std::string_view bytes);
// The bytes as text, after checking they are valid UTF-8.
std::string_view utf8_from_bytes(std::string_view bytes);

// JSON number text: "42", "-7", "2.5". NaN and infinities are rejected.
std::string number_to_bytes(double value);
std::string number_to_bytes(std::int64_t value);
std::string number_to_bytes(std::uint64_t value);
// A JSON number (optionally surrounded by whitespace).
double number_from_bytes(std::string_view bytes);
std::int64_t integer_from_bytes(std::string_view bytes);

// Standard base64 with padding (RFC 4648).
std::string base64_encode(std::span<const std::uint8_t> bytes);
std::string base64_encode(std::string_view bytes);
// Strict: wrong characters, bad padding or a wrong length are errors (invalid_data).
std::string base64_decode(std::string_view text);

}  // namespace danube::connect::serialization
