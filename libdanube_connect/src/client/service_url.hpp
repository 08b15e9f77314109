#pragma once

#include <string>
#include <string_view>

#include "danube/client/result.hpp"

namespace danube::client::detail {

// A broker URL split into what gRPC dials and whether it wants TLS.
struct ServiceUrl {
  std::string target;  // host:port, as gRPC expects it
  bool tls = false;
};

// Accepts http://host:port, https://host:port and bare host:port (plaintext). gRPC does not
// understand the scheme Danube puts in every URL, so it is stripped here.
Result<ServiceUrl> parse_service_url(std::string_view url);

}  // namespace danube::client::detail
