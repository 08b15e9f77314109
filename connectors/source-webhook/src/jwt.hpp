#pragma once

// JSON Web Token verification (RFC 7519) for webhook senders that authenticate with
// "Authorization: Bearer <token>": HS256 with a shared secret, or RS256 with a public key.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "crypto.hpp"

namespace danube::webhook {

struct JwtPolicy {
  std::string hs256_secret;                    // used when `rs256` is null
  std::shared_ptr<const Rs256Verifier> rs256;  // set: only RS256 tokens are accepted
  std::chrono::seconds leeway{60};             // clock skew allowed on exp and nbf
  bool require_exp = true;
};

// nullopt when `token` is a well-formed JWT whose signature verifies with the policy's key and
// algorithm (the header's "alg" must be that algorithm: "none" and algorithm swaps are refused),
// and whose "exp" and "nbf" admit `now`. Otherwise the reason, fit for a 401 answer (it never
// contains the key).
std::optional<std::string> verify_jwt(std::string_view token, const JwtPolicy& policy,
                                      std::chrono::system_clock::time_point now);

}  // namespace danube::webhook
