#include "crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace danube::webhook {
namespace {

const EVP_MD* digest_of(HmacAlgorithm algorithm) {
  return algorithm == HmacAlgorithm::sha512 ? EVP_sha512() : EVP_sha256();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

}  // namespace

std::string hmac(HmacAlgorithm algorithm, std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  const unsigned char* result = HMAC(digest_of(algorithm), key.data(), static_cast<int>(key.size()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), digest.data(), &length);
  if (result == nullptr) throw std::runtime_error("HMAC computation failed");
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 2);
  for (const char byte : bytes) {
    const auto value = static_cast<unsigned char>(byte);
    text += kDigits[value >> 4];
    text += kDigits[value & 0x0F];
  }
  return text;
}

std::optional<std::string> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes += static_cast<char>((high << 4) | low);
  }
  return bytes;
}

void Rs256Verifier::KeyDeleter::operator()(evp_pkey_st* key) const {
  EVP_PKEY_free(key);
}

Rs256Verifier::Rs256Verifier(const std::string& public_key_pem) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  if (!bio) throw std::invalid_argument("cannot read the public key");
  key_.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key_) throw std::invalid_argument("not a PEM public key (-----BEGIN PUBLIC KEY-----)");
}

Rs256Verifier::~Rs256Verifier() = default;

bool Rs256Verifier::verify(std::string_view message, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> context(EVP_MD_CTX_new());
  if (!context) return false;
  if (EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace danube::webhook
