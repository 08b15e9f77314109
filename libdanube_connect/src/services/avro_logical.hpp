#pragma once

// Conversions behind Avro's logical types (decimal, date, time and timestamp text), apart from
// the codec so they can be tested on their own. Errors are std::invalid_argument with the
// reason; the codec adds the value's path.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace danube::services::avro::logical {

// Decimals are held in 128 bits: precision up to 38 digits.
inline constexpr int kMaxDecimalPrecision = 38;

// The most decimal digits a two's complement number of `size` bytes always holds.
int max_decimal_digits(std::size_t size);

// The unscaled value of `value` (a JSON number, or a string like "-12.50") at `scale`, as big-
// endian two's complement: the fewest bytes, or exactly `fixed_size` bytes.
std::string encode_decimal(const nlohmann::json& value, int precision, int scale,
                           std::optional<std::size_t> fixed_size);
// "-12.50" from the bytes of an unscaled value and its scale.
std::string decode_decimal(std::string_view bytes, int scale);

// Days since 1970-01-01 of "YYYY-MM-DD".
std::int64_t parse_date(std::string_view text);
// Microseconds since midnight of "HH:MM:SS" with an optional fraction (up to 6 digits).
std::int64_t parse_time_micros(std::string_view text);
// Nanoseconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fraction]" followed by "Z" or an offset
// like "+02:00" (a timestamp), or by nothing (a local timestamp, `local`).
std::int64_t parse_timestamp_nanos(std::string_view text, bool local);

// 8-4-4-4-12 hexadecimal digits.
bool is_uuid(std::string_view text);

}  // namespace danube::services::avro::logical
