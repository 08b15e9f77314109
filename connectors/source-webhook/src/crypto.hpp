#pragma once

// The few cryptographic building blocks webhook authentication needs, on OpenSSL.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace danube::webhook {

enum class HmacAlgorithm { sha256, sha512 };

// The raw HMAC of `message` with `key`.
std::string hmac(HmacAlgorithm algorithm, std::string_view key, std::string_view message);

// Lower-case hex of `bytes`.
std::string to_hex(std::string_view bytes);
// The bytes of hex text (either case); nullopt for odd lengths or other characters.
std::optional<std::string> from_hex(std::string_view text);

// Verifies RSASSA-PKCS1-v1_5 SHA-256 signatures (JWT "RS256") with one public key. The key is
// parsed once; verify() is safe from several threads.
class Rs256Verifier {
 public:
  // Throws std::invalid_argument when `public_key_pem` is not a PEM public key.
  explicit Rs256Verifier(const std::string& public_key_pem);
  ~Rs256Verifier();
  Rs256Verifier(const Rs256Verifier&) = delete;
  Rs256Verifier& operator=(const Rs256Verifier&) = delete;

  bool verify(std::string_view message, std::string_view signature) const;

 private:
  struct KeyDeleter {
    void operator()(evp_pkey_st* key) const;
  };
  std::unique_ptr<evp_pkey_st, KeyDeleter> key_;
};

}  // namespace danube::webhook
