#pragma once

// Test credentials made at test time: HS256 JWTs signed with OpenSSL's HMAC (independently of
// the broker's verifier) and a self-signed certificate for localhost / 127.0.0.1.
#include <chrono>
#include <filesystem>
#include <string>

namespace danube::test {

std::string base64url(const std::string& bytes);

// An HS256 JWT over `claims_json`, signed with `secret`.
std::string make_jwt(const std::string& secret, const std::string& claims_json,
                     const std::string& header_json = R"({"alg":"HS256","typ":"JWT"})");

// Danube's claims (iss, sub, exp, principal_type, principal_name), expiring after `lifetime`.
std::string valid_claims(std::chrono::seconds lifetime = std::chrono::hours(1));

// A self-signed certificate and key in a temporary directory (removed on destruction), made
// with the openssl command-line tool. Throws std::runtime_error when that fails.
class SelfSignedCertificate {
 public:
  SelfSignedCertificate();
  ~SelfSignedCertificate();
  SelfSignedCertificate(const SelfSignedCertificate&) = delete;
  SelfSignedCertificate& operator=(const SelfSignedCertificate&) = delete;

  const std::filesystem::path& cert_file() const { return cert_; }
  const std::filesystem::path& key_file() const { return key_; }
  const std::string& cert_pem() const { return cert_pem_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path cert_;
  std::filesystem::path key_;
  std::string cert_pem_;
};

}  // namespace danube::test
