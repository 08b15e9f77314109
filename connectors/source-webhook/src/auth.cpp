#include "auth.hpp"

#include <charconv>
#include <stdexcept>
#include <vector>

#include "secrets.hpp"

namespace danube::webhook {
namespace {

std::string_view algorithm_name(HmacAlgorithm algorithm) {
  return algorithm == HmacAlgorithm::sha512 ? "sha512" : "sha256";
}

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(left[i]) != lower(right[i])) return false;
  }
  return true;
}

}  // namespace

Authenticator::Authenticator(AuthSettings settings) : settings_(std::move(settings)) {
  if (settings_.mode == AuthMode::jwt) {
    jwt_.leeway = settings_.jwt_leeway;
    jwt_.require_exp = settings_.jwt_require_exp;
    if (!settings_.jwt_public_key_pem.empty()) {
      jwt_.rs256 = std::make_shared<const Rs256Verifier>(settings_.jwt_public_key_pem);
    } else {
      jwt_.hs256_secret = settings_.secret;
    }
  }
}

std::optional<std::string> Authenticator::verify(const RequestHeaders& headers,
                                                 std::string_view body,
                                                 std::chrono::system_clock::time_point now) const {
  switch (settings_.mode) {
    case AuthMode::none:
      return std::nullopt;
    case AuthMode::api_key:
      return verify_api_key(headers);
    case AuthMode::hmac: {
      const auto signature = headers.find(settings_.header);
      if (!signature) return "missing " + settings_.header + " header";
      return settings_.hmac_style == HmacStyle::stripe
                 ? verify_stripe_signature(*signature, body, now)
                 : verify_github_signature(*signature, body);
    }
    case AuthMode::jwt:
      return verify_bearer_token(headers, now);
  }
  return "unsupported authentication mode";
}

std::optional<std::string> Authenticator::verify_api_key(const RequestHeaders& headers) const {
  const auto key = headers.find(settings_.header);
  if (!key) return "missing " + settings_.header + " header";
  if (!connectors::secrets_equal(*key, settings_.secret)) return "invalid API key";
  return std::nullopt;
}

std::optional<std::string> Authenticator::verify_github_signature(std::string_view header_value,
                                                                  std::string_view body) const {
  std::string_view hex = trim_header_spaces(header_value);
  if (const auto equals = hex.find('='); equals != std::string_view::npos) {
    if (!equals_ignoring_case(hex.substr(0, equals), algorithm_name(settings_.algorithm))) {
      return "signature algorithm is not " + std::string(algorithm_name(settings_.algorithm));
    }
    hex.remove_prefix(equals + 1);
  }
  const auto provided = from_hex(hex);
  if (!provided) return "malformed signature (expected hex)";
  const std::string expected = hmac(settings_.algorithm, settings_.secret, body);
  if (!connectors::secrets_equal(*provided, expected)) return "invalid signature";
  return std::nullopt;
}

std::optional<std::string> Authenticator::verify_stripe_signature(
    std::string_view header_value, std::string_view body,
    std::chrono::system_clock::time_point now) const {
  // t=<unix seconds>,v1=<hex>[,v1=<hex>][,v0=...]: several v1 entries while a secret rolls over.
  std::optional<std::int64_t> timestamp;
  std::vector<std::string_view> signatures;
  std::string_view rest = header_value;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = trim_header_spaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "t") {
      std::int64_t parsed = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (error != std::errc() || end != value.data() + value.size()) {
        return "malformed signature timestamp";
      }
      timestamp = parsed;
    } else if (key == "v1") {
      signatures.push_back(value);
    }
  }
  if (!timestamp) return "signature has no timestamp (t=)";
  if (signatures.empty()) return "signature has no v1 entry";
  const auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto age = now_seconds - *timestamp;
  if (age > settings_.timestamp_tolerance.count() || -age > settings_.timestamp_tolerance.count()) {
    return "signature timestamp outside the tolerance of " +
           std::to_string(settings_.timestamp_tolerance.count()) + " s";
  }
  std::string signed_payload = std::to_string(*timestamp);
  signed_payload += '.';
  signed_payload.append(body);
  const std::string expected = hmac(settings_.algorithm, settings_.secret, signed_payload);
  bool matched = false;
  for (const auto signature : signatures) {
    const auto provided = from_hex(signature);
    // Every candidate is compared, so timing does not tell which one matched.
    if (provided && connectors::secrets_equal(*provided, expected)) matched = true;
  }
  if (!matched) return "invalid signature";
  return std::nullopt;
}

std::optional<std::string> Authenticator::verify_bearer_token(
    const RequestHeaders& headers, std::chrono::system_clock::time_point now) const {
  const auto authorization = headers.find("authorization");
  if (!authorization) return "missing Authorization header";
  const std::string_view value = trim_header_spaces(*authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() <= kBearer.size() ||
      !equals_ignoring_case(value.substr(0, kBearer.size()), kBearer)) {
    return "Authorization header is not a Bearer token";
  }
  return verify_jwt(trim_header_spaces(value.substr(kBearer.size())), jwt_, now);
}

}  // namespace danube::webhook
