#include "request_auth.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>

namespace danube::sink_http {

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  const unsigned char* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), digest.data(), &length);
  if (result == nullptr) throw std::runtime_error("HMAC-SHA256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

std::string base64_encode(std::string_view bytes) {
  std::string encoded(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  encoded.resize(static_cast<std::size_t>(written));
  return encoded;
}

std::vector<std::string> authentication_headers(const AuthSettings& auth, std::string_view body) {
  switch (auth.kind) {
    case AuthSettings::Kind::none:
      return {};
    case AuthSettings::Kind::bearer:
      return {"Authorization: Bearer " + auth.bearer_token};
    case AuthSettings::Kind::basic:
      return {"Authorization: Basic " + base64_encode(auth.username + ":" + auth.password)};
    case AuthSettings::Kind::hmac_sha256:
      return {auth.signature_header + ": " + auth.signature_prefix +
              hmac_sha256_hex(auth.hmac_secret, body)};
  }
  return {};
}

}  // namespace danube::sink_http
