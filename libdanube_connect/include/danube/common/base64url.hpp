#pragma once

// base64url without padding (RFC 4648 section 5, as RFC 7515 uses it in JWTs): the embedded
// broker's token check and the webhook connector's JWT check read the same encoding.
#include <optional>
#include <string>
#include <string_view>

namespace danube {

std::string base64url_encode(std::string_view bytes);
// nullopt for a character outside the alphabet or an impossible length (4n + 1).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace danube
