#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace danube::testkit::internal {

// `text`, a JSON document, as serde_json 1.0 writes it back after reading it into a
// serde_json::Value: Danube 0.15's registry hashes that text for JSON Schema fingerprints. nullopt
// when `text` is not JSON or nests deeper than kMaxJsonNestingDepth.
//
// Compact; object keys in byte order (serde's default map is a BTreeMap, nlohmann's a std::map:
// the same order); strings escaped alike (", \, \b \f \n \r \t, other control characters as
// lowercase \u00XX, everything else as UTF-8); integers as written, except "-0", which serde
// reads as the float -0.0 and writes "-0.0". Floating-point numbers are where nlohmann's own
// dump() differs: serde writes the shortest round-trip digits in fixed notation for decimal
// exponents -5 to 15 ("0.00001", "1000000000000000.0", "0.5") and in scientific notation with an
// unpadded exponent otherwise ("1e+16", "1.5e-7"), where nlohmann writes "1e-05", "1e+15" and
// "1.5e-07".
std::optional<std::string> serde_json_text(std::string_view text);

}  // namespace danube::testkit::internal
