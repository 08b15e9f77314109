#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace danube::testkit::internal {

// The claims Danube puts in its tokens (protocol.md section 2.14).
struct JwtClaims {
  std::string subject;          // sub
  std::string issuer;           // iss (optional)
  std::string principal_type;   // service_account | user | broker_internal (optional)
  std::string principal_name;   // (optional)
  std::int64_t expires_at = 0;  // exp, seconds since the Unix epoch
};

// The leeway Danube's jsonwebtoken Validation::default() allows on `exp`.
inline constexpr std::chrono::seconds kJwtLeeway{60};

// Checks an HS256 JWT the way Danube does: the header must say alg HS256, the HMAC-SHA256
// signature over "header.payload" must match `secret`, and `exp` must be present and not past
// (with kJwtLeeway). `sub` must be a string. Returns the claims, or a one-line reason.
std::variant<JwtClaims, std::string> verify_hs256_jwt(std::string_view token,
                                                      std::string_view secret,
                                                      std::chrono::system_clock::time_point now);

// Lowercase hex SHA-256 of `data` (schema fingerprints).
std::string sha256_hex(std::string_view data);

}  // namespace danube::testkit::internal
