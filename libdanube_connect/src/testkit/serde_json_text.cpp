#include "serde_json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "danube/common/json_nesting.hpp"

namespace danube::testkit::internal {
namespace {

using nlohmann::json;

// Decimal exponents serde_json (its float formatter) writes in fixed notation.
constexpr int kFixedMinExponent = -5;
constexpr int kFixedMaxExponent = 15;

void append_float(double value, std::string& out) {
  // serde_json writes non-finite floats as null; a parsed document holds none anyway.
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  // The shortest digits that read back as `value`, as "[-]d[.ddd]e(+|-)dd".
  std::array<char, 64> buffer{};
  const auto written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                     std::chars_format::scientific);
  std::string_view text(buffer.data(), static_cast<std::size_t>(written.ptr - buffer.data()));
  if (text.front() == '-') {
    out += '-';
    text.remove_prefix(1);
  }
  const auto e = text.find('e');
  std::string digits;
  for (const char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  const int last_digit_exponent = exponent - static_cast<int>(digits.size()) + 1;

  if (exponent < kFixedMinExponent || exponent > kFixedMaxExponent) {
    out += digits.front();
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += exponent >= 0 ? "e+" : "e-";
    out += std::to_string(std::abs(exponent));
  } else if (last_digit_exponent >= 0) {  // an integral value: 1234e7 -> 12340000000.0
    out += digits;
    out.append(static_cast<std::size_t>(last_digit_exponent), '0');
    out += ".0";
  } else if (exponent >= 0) {  // 1.234e1 -> 12.34
    const auto integral = static_cast<std::size_t>(exponent) + 1;
    out.append(digits, 0, integral);
    out += '.';
    out.append(digits, integral);
  } else {  // 1.234e-3 -> 0.001234
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
  }
}

void append_string(const std::string& text, std::string& out) {
  // nlohmann escapes the same characters as serde_json; `replace` keeps invalid UTF-8 (which no
  // parsed document holds) from throwing.
  out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append(const json& value, std::string& out) {
  switch (value.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out += ',';
        first = false;
        append_string(key, out);
        out += ':';
        append(member, out);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ',';
        first = false;
        append(element, out);
      }
      out += ']';
      return;
    }
    case json::value_t::string:
      append_string(value.get_ref<const std::string&>(), out);
      return;
    case json::value_t::number_float:
      append_float(value.get<double>(), out);
      return;
    default:  // null, booleans, integers: written alike
      out += value.dump();
      return;
  }
}

// `text` with every integer "-0" outside strings written "-0.0": nlohmann would read it as the
// integer 0 and lose the sign serde keeps.
std::string negative_zero_integers_as_floats(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    out += c;
    if (in_string) {
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '0' &&
               (i == 0 || (text[i - 1] != 'e' && text[i - 1] != 'E'))) {  // not an exponent
      const bool more_follows =
          i + 2 < text.size() &&
          std::string_view("0123456789.eE").find(text[i + 2]) != std::string_view::npos;
      if (!more_follows) {
        out += "0.0";
        ++i;
      }
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> serde_json_text(std::string_view text) {
  if (json_nesting_exceeds_limit(text)) return std::nullopt;
  const json parsed = json::parse(negative_zero_integers_as_floats(text), nullptr,
                                  /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  std::string out;
  append(parsed, out);
  return out;
}

}  // namespace danube::testkit::internal
