#include "secrets.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace danube::connectors {

std::optional<std::string> environment_value(std::string_view name) {
  const std::string variable(name);
  if (const char* value = std::getenv(variable.c_str())) return std::string(value);
  return std::nullopt;
}

std::optional<std::string> secret_from_file(const connect::ConfigSection& section,
                                            std::string_view file_key) {
  const auto path = section.get_string(file_key);
  if (!path) return std::nullopt;
  std::ifstream file(*path, std::ios::binary);
  if (!file) section.fail(file_key, "cannot read the secret file '" + *path + "'");
  std::ostringstream content;
  content << file.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    secret.pop_back();
  if (secret.empty()) section.fail(file_key, "the secret file '" + *path + "' is empty");
  return secret;
}

bool secrets_equal(std::string_view left, std::string_view right) {
  // Compare every byte of the longer string so that timing does not reveal a matching prefix.
  const std::size_t length = std::max(left.size(), right.size());
  unsigned char difference = left.size() == right.size() ? 0 : 1;
  for (std::size_t i = 0; i < length; ++i) {
    const auto a = i < left.size() ? static_cast<unsigned char>(left[i]) : 0;
    const auto b = i < right.size() ? static_cast<unsigned char>(right[i]) : 0;
    difference |= static_cast<unsigned char>(a ^ b);
  }
  return difference == 0;
}

}  // namespace danube::connectors
