#include "jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <nlohmann/json.hpp>
#include <optional>

#include "danube/common/base64url.hpp"
#include "danube/common/json_nesting.hpp"

namespace danube::testkit::internal {
namespace {

std::optional<nlohmann::json> parse_object(std::string_view encoded) {
  const auto decoded = base64url_decode(encoded);
  if (!decoded || json_nesting_exceeds_limit(*decoded)) return std::nullopt;
  auto parsed = nlohmann::json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

std::string optional_string(const nlohmann::json& claims, const char* key) {
  const auto it = claims.find(key);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

std::variant<JwtClaims, std::string> verify_hs256_jwt(std::string_view token,
                                                      std::string_view secret,
                                                      std::chrono::system_clock::time_point now) {
  const auto first_dot = token.find('.');
  const auto second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != token.npos) {
    return std::string("malformed token: expected header.payload.signature");
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);

  const auto header = parse_object(header_part);
  if (!header) return std::string("malformed token: the header is not base64url JSON");
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || alg->get<std::string>() != "HS256") {
    return std::string("unsupported token algorithm: only HS256 is accepted");
  }

  const auto signature = base64url_decode(signature_part);
  if (!signature) return std::string("malformed token: the signature is not base64url");
  std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
  unsigned int expected_length = 0;
  const std::string_view signed_part = token.substr(0, second_dot);
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(),
           expected.data(), &expected_length) == nullptr) {
    return std::string("cannot compute the token signature");
  }
  if (signature->size() != expected_length ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected_length) != 0) {
    return std::string("invalid token signature");
  }

  const auto claims = parse_object(payload_part);
  if (!claims) return std::string("malformed token: the claims are not base64url JSON");
  const auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) {
    return std::string("token has no numeric 'exp' claim");
  }
  const auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string()) {
    return std::string("token has no string 'sub' claim");
  }
  JwtClaims result;
  result.expires_at = exp->is_number_integer() ? exp->get<std::int64_t>()
                                               : static_cast<std::int64_t>(exp->get<double>());
  const auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (result.expires_at + kJwtLeeway.count() < now_seconds) return std::string("token expired");
  result.subject = sub->get<std::string>();
  result.issuer = optional_string(*claims, "iss");
  result.principal_type = optional_string(*claims, "principal_type");
  result.principal_name = optional_string(*claims, "principal_name");
  return result;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0F]);
  }
  return hex;
}

}  // namespace danube::testkit::internal
