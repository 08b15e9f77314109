#pragma once

// The authentication headers of a request: a bearer token, HTTP basic credentials, or an
// HMAC-SHA256 signature of the body, so the endpoint can tell the body was not altered and
// comes from a holder of the shared secret.
#include <string>
#include <string_view>
#include <vector>

#include "http_sink_settings.hpp"

namespace danube::sink_http {

// "Name: value" header lines for a request with `body`; empty for AuthSettings::Kind::none.
std::vector<std::string> authentication_headers(const AuthSettings& auth, std::string_view body);

// Lower-case hex HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

}  // namespace danube::sink_http
