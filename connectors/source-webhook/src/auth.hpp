#pragma once

// Authentication of webhook requests: none, an API key header, an HMAC signature of the body
// (GitHub or Stripe style) or a JWT bearer token. One Authenticator per endpoint; verify() is
// called from many HTTP threads at once and keeps no mutable state.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "jwt.hpp"
#include "webhook_config.hpp"
#include "webhook_request.hpp"

namespace danube::webhook {

class Authenticator {
 public:
  // Throws std::invalid_argument when a JWT public key does not parse.
  explicit Authenticator(AuthSettings settings);

  // nullopt when the request is authentic; otherwise why not, fit for the 401 answer and the
  // log (never the secret, nor what the client sent in its place).
  std::optional<std::string> verify(const RequestHeaders& headers, std::string_view body,
                                    std::chrono::system_clock::time_point now) const;

  const AuthSettings& settings() const { return settings_; }

 private:
  std::optional<std::string> verify_api_key(const RequestHeaders& headers) const;
  std::optional<std::string> verify_github_signature(std::string_view header_value,
                                                     std::string_view body) const;
  std::optional<std::string> verify_stripe_signature(
      std::string_view header_value, std::string_view body,
      std::chrono::system_clock::time_point now) const;
  std::optional<std::string> verify_bearer_token(const RequestHeaders& headers,
                                                 std::chrono::system_clock::time_point now) const;

  AuthSettings settings_;
  JwtPolicy jwt_;
};

}  // namespace danube::webhook
