#include "jwt.hpp"

#include <nlohmann/json.hpp>

#include "danube/common/base64url.hpp"
#include "secrets.hpp"

namespace danube::webhook {
namespace {

std::optional<nlohmann::json> decode_object(std::string_view part) {
  const auto text = base64url_decode(part);
  if (!text) return std::nullopt;
  auto value = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

// A NumericDate claim: seconds since the epoch, integer or not.
std::optional<double> numeric_claim(const nlohmann::json& claims, const char* name) {
  const auto found = claims.find(name);
  if (found == claims.end() || !found->is_number()) return std::nullopt;
  return found->get<double>();
}

}  // namespace

std::optional<std::string> verify_jwt(std::string_view token, const JwtPolicy& policy,
                                      std::chrono::system_clock::time_point now) {
  const auto first_dot = token.find('.');
  const auto second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != token.npos) {
    return "malformed token (expected header.payload.signature)";
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);
  const auto header = decode_object(header_part);
  if (!header) return "malformed token header";
  const auto algorithm = header->value("alg", std::string());
  const std::string expected = policy.rs256 ? "RS256" : "HS256";
  if (algorithm != expected) {
    return "token algorithm '" + algorithm + "' is not the expected " + expected;
  }
  const auto signature = base64url_decode(signature_part);
  if (!signature) return "malformed token signature";
  const std::string_view signed_part = token.substr(0, second_dot);
  const bool valid =
      policy.rs256 ? policy.rs256->verify(signed_part, *signature)
                   : connectors::secrets_equal(
                         hmac(HmacAlgorithm::sha256, policy.hs256_secret, signed_part), *signature);
  if (!valid) return "invalid token signature";
  // Claims are read only once the signature holds: nothing unauthenticated is interpreted.
  const auto claims = decode_object(payload_part);
  if (!claims) return "malformed token payload";
  const double seconds_now = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(policy.leeway.count());
  const auto expires = numeric_claim(*claims, "exp");
  if (claims->contains("exp") && !expires) return "token claim 'exp' is not a number";
  if (!expires && policy.require_exp) return "token has no 'exp' claim";
  if (expires && seconds_now > *expires + leeway) return "token expired";
  const auto not_before = numeric_claim(*claims, "nbf");
  if (claims->contains("nbf") && !not_before) return "token claim 'nbf' is not a number";
  if (not_before && seconds_now + leeway < *not_before) return "token not valid yet (nbf)";
  return std::nullopt;
}

}  // namespace danube::webhook
