#include "service_url.hpp"

#include <charconv>

namespace danube::client::detail {
namespace {

Error bad_url(std::string_view url, std::string_view why) {
  return Error(ErrorCategory::invalid_argument, 0,
               "invalid service URL '" + std::string(url) + "': " + std::string(why));
}

}  // namespace

Result<ServiceUrl> parse_service_url(std::string_view url) {
  ServiceUrl parsed;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    parsed.tls = true;
  } else if (rest.find("://") != std::string_view::npos) {
    return bad_url(url, "the scheme must be http or https");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return bad_url(url, "no host");
  if (rest.find('/') != std::string_view::npos) return bad_url(url, "a path is not allowed");

  const auto colon = rest.rfind(':');
  const bool bracketed_ipv6 = rest.front() == '[';
  if (colon == std::string_view::npos || (bracketed_ipv6 && colon < rest.find(']'))) {
    return bad_url(url, "no port (expected host:port)");
  }
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port_text = rest.substr(colon + 1);
  if (host.empty()) return bad_url(url, "no host");
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return bad_url(url, "the port must be a number from 1 to 65535");
  }
  parsed.target = std::string(rest);
  return parsed;
}

}  // namespace danube::client::detail
