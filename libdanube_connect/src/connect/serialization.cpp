#include "danube/connect/serialization.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "danube/common/json_nesting.hpp"
#include "danube/connect/error.hpp"

namespace danube::connect::serialization {

namespace {

std::string_view as_chars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

// Short, printable excerpt of bad input for error messages (never the whole payload).
std::string excerpt(std::string_view bytes) {
  constexpr std::size_t kMax = 32;
  std::string out;
  for (char c : bytes.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (bytes.size() > kMax) out += "...";
  return out;
}

}  // namespace

std::string json_to_bytes(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ConnectorError::serialization(std::string("cannot serialize JSON: ") + e.what());
  }
}

std::string json_to_pretty_string(const nlohmann::json& value) {
  try {
    return value.dump(2);
  } catch (const nlohmann::json::exception& e) {
    throw ConnectorError::serialization(std::string("cannot serialize JSON: ") + e.what());
  }
}

nlohmann::json json_from_bytes(std::string_view bytes) {
  if (json_nesting_exceeds_limit(bytes)) {
    throw ConnectorError::invalid_data("payload is not valid JSON: " + json_nesting_error());
  }
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw ConnectorError::invalid_data(std::string("payload is not valid JSON: ") + e.what());
  }
}

nlohmann::json json_from_bytes(std::span<const std::uint8_t> bytes) {
  return json_from_bytes(as_chars(bytes));
}

bool is_valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  const std::size_t n = bytes.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length;
    std::uint32_t code_point;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      code_point = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code_point = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<unsigned char>(bytes[i + k]);
      if ((continuation & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (continuation & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::array<std::uint32_t, 5> kMinimum{0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string_view utf8_from_bytes(std::string_view bytes) {
  if (!is_valid_utf8(bytes)) {
    throw ConnectorError::invalid_data("payload is not valid UTF-8 (" +
                                       std::to_string(bytes.size()) + " bytes)");
  }
  return bytes;
}

std::string number_to_bytes(double value) {
  if (!std::isfinite(value)) {
    throw ConnectorError::serialization("number is not finite; JSON cannot represent it");
  }
  return nlohmann::json(value).dump();
}

std::string number_to_bytes(std::int64_t value) {
  return std::to_string(value);
}
std::string number_to_bytes(std::uint64_t value) {
  return std::to_string(value);
}

double number_from_bytes(std::string_view bytes) {
  const std::string_view text = trim(bytes);
  // A number has no brackets; without this a deep array would be built only to be rejected.
  if (json_nesting_exceeds_limit(text)) {
    throw ConnectorError::invalid_data("payload is not a number: '" + excerpt(bytes) + "'");
  }
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception&) {
    throw ConnectorError::invalid_data("payload is not a number: '" + excerpt(bytes) + "'");
  }
  if (!value.is_number()) {
    throw ConnectorError::invalid_data("payload is not a number: '" + excerpt(bytes) + "'");
  }
  return value.get<double>();
}

std::int64_t integer_from_bytes(std::string_view bytes) {
  const std::string_view text = trim(bytes);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw ConnectorError::invalid_data("payload is not an integer in int64 range: '" +
                                       excerpt(bytes) + "'");
  }
  return value;
}

namespace {
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (static_cast<unsigned char>(bytes[i]) << 16) |
                                (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                                static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t group = (static_cast<unsigned char>(bytes[i]) << 16) |
                                (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  return base64_encode(as_chars(bytes));
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    throw ConnectorError::invalid_data("base64 text length " + std::to_string(text.size()) +
                                       " is not a multiple of 4");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int values[4];
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        values[k] = 0;
        ++padding;
        continue;
      }
      if (padding > 0 || (values[k] = decode_char(c)) < 0) {
        throw ConnectorError::invalid_data("invalid base64 character at offset " +
                                           std::to_string(i + k));
      }
    }
    const std::uint32_t group =
        (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3];
    out += static_cast<char>((group >> 16) & 0xFF);
    if (padding < 2) out += static_cast<char>((group >> 8) & 0xFF);
    if (padding < 1) out += static_cast<char>(group & 0xFF);
    // Non-canonical encodings (stray bits under the padding) are rejected: strictness keeps
    // a decode/encode round trip exact.
    if ((padding == 1 && (values[2] & 0x3)) || (padding == 2 && (values[1] & 0xF))) {
      throw ConnectorError::invalid_data("non-canonical base64 padding at offset " +
                                         std::to_string(i));
    }
  }
  return out;
}

}  // namespace danube::connect::serialization
