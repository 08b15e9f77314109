#include "credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace danube::test {

std::string base64url(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::string make_jwt(const std::string& secret, const std::string& claims_json,
                     const std::string& header_json) {
  const std::string signing_input = base64url(header_json) + "." + base64url(claims_json);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
       mac.data(), &length);
  return signing_input + "." +
         base64url(std::string(reinterpret_cast<const char*>(mac.data()), length));
}

std::string valid_claims(std::chrono::seconds lifetime) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch() + lifetime)
                       .count();
  std::ostringstream claims;
  claims << R"({"iss":"danube-test","sub":"test-service","exp":)" << exp
         << R"(,"principal_type":"service_account","principal_name":"test-service"})";
  return claims.str();
}

SelfSignedCertificate::SelfSignedCertificate() {
  dir_ = std::filesystem::temp_directory_path() /
         ("danube-cert-" + std::to_string(::getpid()) + "-" +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir_);
  cert_ = dir_ / "cert.pem";
  key_ = dir_ / "key.pem";
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
      key_.string() + "' -out '" + cert_.string() + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("openssl could not make a self-signed certificate");
  }
  std::ifstream in(cert_);
  std::stringstream content;
  content << in.rdbuf();
  cert_pem_ = content.str();
}

SelfSignedCertificate::~SelfSignedCertificate() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace danube::test
