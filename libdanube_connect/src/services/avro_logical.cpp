#include "avro_logical.hpp"

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace danube::services::avro::logical {
namespace {

using Int128 = __int128;

[[noreturn]] void fail(const std::string& reason) {
  throw std::invalid_argument(reason);
}

Int128 power_of_ten(int exponent) {
  Int128 result = 1;
  for (int i = 0; i < exponent; ++i)
    result *= 10;
  return result;
}

// The digits of a decimal text: sign, integer and fraction digits, and an exponent.
struct DecimalText {
  bool negative = false;
  std::string digits;  // integer digits followed by fraction digits, no leading sign
  int point = 0;       // how many of `digits` are before the decimal point
};

DecimalText split_decimal(std::string_view text) {
  DecimalText result;
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) result.negative = text[i++] == '-';
  bool seen_point = false;
  bool any_digit = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      result.digits += c;
      if (!seen_point) ++result.point;
      any_digit = true;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) fail("'" + std::string(text) + "' is not a decimal number");
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E')
      fail("'" + std::string(text) + "' is not a decimal number");
    ++i;
    int exponent = 0;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative_exponent = text[i++] == '-';
    if (i == text.size()) fail("'" + std::string(text) + "' is not a decimal number");
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9' || exponent > 1000) {
        fail("'" + std::string(text) + "' is not a decimal number");
      }
      exponent = exponent * 10 + (text[i] - '0');
    }
    result.point += negative_exponent ? -exponent : exponent;
  }
  return result;
}

// The unscaled value of `text` at `scale`, at most `precision` digits.
Int128 unscaled(std::string_view text, int precision, int scale) {
  const DecimalText decimal = split_decimal(text);
  // digits[k] has weight 10^(point - 1 - k); scaled, 10^(point - 1 - k + scale).
  Int128 value = 0;
  int significant = 0;
  const int length = static_cast<int>(decimal.digits.size());
  for (int k = 0; k < length; ++k) {
    const int digit = decimal.digits[static_cast<std::size_t>(k)] - '0';
    const int weight = decimal.point - 1 - k + scale;
    if (weight < 0) {
      if (digit != 0) {
        fail("'" + std::string(text) + "' has more than " + std::to_string(scale) +
             " decimal places");
      }
      continue;
    }
    if (digit == 0 && value == 0) continue;
    if (value == 0) significant = weight + 1;
    if (significant > precision) {
      fail("'" + std::string(text) + "' has more than " + std::to_string(precision) + " digits");
    }
    value += digit * power_of_ten(weight);
  }
  return decimal.negative ? -value : value;
}

std::string to_big_endian(Int128 value, std::optional<std::size_t> fixed_size) {
  std::string bytes;
  for (int i = 15; i >= 0; --i)
    bytes += static_cast<char>(static_cast<unsigned char>((value >> (8 * i)) & 0xff));
  // The fewest bytes that keep the sign: drop leading bytes that only extend it.
  std::size_t start = 0;
  while (start + 1 < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[start]);
    const auto next = static_cast<unsigned char>(bytes[start + 1]);
    if ((byte == 0x00 && next < 0x80) || (byte == 0xff && next >= 0x80)) {
      ++start;
    } else {
      break;
    }
  }
  bytes.erase(0, start);
  if (!fixed_size) return bytes;
  if (bytes.size() > *fixed_size)
    fail("the value needs more than " + std::to_string(*fixed_size) + " bytes");
  const char fill = value < 0 ? '\xff' : '\x00';
  return std::string(*fixed_size - bytes.size(), fill) + bytes;
}

int two_digits(std::string_view text, std::size_t at) {
  if (at + 2 > text.size() || text[at] < '0' || text[at] > '9' || text[at + 1] < '0' ||
      text[at + 1] > '9') {
    fail("'" + std::string(text) + "' is not in the expected format");
  }
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

void expect_char(std::string_view text, std::size_t at, char c) {
  if (at >= text.size() || text[at] != c) {
    fail("'" + std::string(text) + "' is not in the expected format");
  }
}

// Nanoseconds since midnight of "HH:MM:SS[.fraction]" at the start of `text`; `used` is set to
// the characters read.
std::int64_t time_of_day_nanos(std::string_view text, std::size_t& used) {
  const int hours = two_digits(text, 0);
  expect_char(text, 2, ':');
  const int minutes = two_digits(text, 3);
  expect_char(text, 5, ':');
  const int seconds = two_digits(text, 6);
  if (hours > 23 || minutes > 59 || seconds > 59) {
    fail("'" + std::string(text) + "' is not a valid time of day");
  }
  std::int64_t nanos = ((hours * 60LL + minutes) * 60 + seconds) * 1'000'000'000LL;
  used = 8;
  if (used < text.size() && text[used] == '.') {
    ++used;
    std::int64_t fraction = 0;
    int digits = 0;
    while (used < text.size() && text[used] >= '0' && text[used] <= '9') {
      if (digits == 9) fail("'" + std::string(text) + "' has more than 9 fraction digits");
      fraction = fraction * 10 + (text[used++] - '0');
      ++digits;
    }
    if (digits == 0) fail("'" + std::string(text) + "' is not in the expected format");
    for (; digits < 9; ++digits)
      fraction *= 10;
    nanos += fraction;
  }
  return nanos;
}

std::int64_t days_of(std::string_view text) {
  if (text.size() < 10) fail("'" + std::string(text) + "' is not a date (YYYY-MM-DD)");
  const int year = two_digits(text, 0) * 100 + two_digits(text, 2);
  expect_char(text, 4, '-');
  const int month = two_digits(text, 5);
  expect_char(text, 7, '-');
  const int day = two_digits(text, 8);
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) fail("'" + std::string(text) + "' is not a valid date");
  return std::chrono::sys_days(date).time_since_epoch().count();
}

}  // namespace

int max_decimal_digits(std::size_t size) {
  if (size == 0) return 0;
  // floor(log10(2^(8 * size - 1) - 1)), by counting digits of the largest positive value.
  if (size >= 16) return kMaxDecimalPrecision;
  const Int128 largest = (Int128(1) << (8 * size - 1)) - 1;
  int digits = 0;
  for (Int128 bound = 9; bound <= largest; bound = bound * 10 + 9)
    ++digits;
  return digits;
}

std::string encode_decimal(const nlohmann::json& value, int precision, int scale,
                           std::optional<std::size_t> fixed_size) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number()) {
    text = value.dump();  // the shortest text that reads back as the same number
  } else {
    fail("a decimal must be a number or a string");
  }
  return to_big_endian(unscaled(text, precision, scale), fixed_size);
}

std::string decode_decimal(std::string_view bytes, int scale) {
  if (bytes.empty()) return "0";
  const bool negative = static_cast<unsigned char>(bytes[0]) >= 0x80;
  // Wider than 128 bits is fine only when the extra leading bytes just extend the sign.
  while (bytes.size() > 16) {
    const auto lead = static_cast<unsigned char>(bytes[0]);
    if (lead != (negative ? 0xff : 0x00)) fail("a decimal wider than 128 bits");
    bytes.remove_prefix(1);
  }
  Int128 value = negative ? -1 : 0;
  for (const char byte : bytes)
    value = (value << 8) | static_cast<unsigned char>(byte);
  // Digits of the magnitude (the most negative 128-bit value does not occur within 38 digits).
  unsigned __int128 magnitude = negative ? static_cast<unsigned __int128>(-(value + 1)) + 1
                                         : static_cast<unsigned __int128>(value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(scale), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

std::int64_t parse_date(std::string_view text) {
  if (text.size() != 10) fail("'" + std::string(text) + "' is not a date (YYYY-MM-DD)");
  return days_of(text);
}

std::int64_t parse_time_micros(std::string_view text) {
  std::size_t used = 0;
  const auto nanos = time_of_day_nanos(text, used);
  if (used != text.size()) fail("'" + std::string(text) + "' is not a time (HH:MM:SS[.ffffff])");
  return nanos / 1000;
}

std::int64_t parse_timestamp_nanos(std::string_view text, bool local) {
  const auto days = days_of(text);
  expect_char(text, 10, 'T');
  std::size_t used = 0;
  const auto time = time_of_day_nanos(text.substr(11), used);
  std::string_view zone = text.substr(11 + used);
  std::int64_t offset_seconds = 0;
  if (local) {
    if (!zone.empty()) fail("'" + std::string(text) + "': a local timestamp has no time zone");
  } else if (zone == "Z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    offset_seconds = (two_digits(zone, 1) * 60LL + two_digits(zone, 4)) * 60;
    if (zone[0] == '-') offset_seconds = -offset_seconds;
  } else {
    fail("'" + std::string(text) + "' needs a time zone: Z or an offset like +02:00");
  }
  constexpr std::int64_t kNanosPerDay = 86'400'000'000'000LL;
  // Within the ±292 years that 64-bit nanoseconds reach.
  if (days > 106'000 || days < -106'000) fail("'" + std::string(text) + "' is out of range");
  return days * kNanosPerDay + time - offset_seconds * 1'000'000'000LL;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace danube::services::avro::logical
