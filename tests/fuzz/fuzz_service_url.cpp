// Fuzz target: broker service URLs (parse_service_url, which every client connection and every
// lookup answer goes through).
//
// Input: a candidate URL. Properties: a parsed URL gives a host:port target with a valid port,
// and that target parses again, unchanged and without TLS.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "service_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using danube::client::detail::parse_service_url;
  using danube::fuzz::require;
  const auto url = danube::fuzz::as_text(data, size);
  const auto parsed = parse_service_url(url);
  if (!parsed) {
    require(!parsed.error().message().empty(), "service url: a rejection says why");
    return 0;
  }
  const auto& target = parsed.value().target;
  const auto colon = target.rfind(':');
  require(colon != std::string::npos && colon > 0, "service url: host:port");
  const std::string port = target.substr(colon + 1);
  unsigned number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  require(
      error == std::errc() && end == port.data() + port.size() && number >= 1 && number <= 65535,
      "service url: port 1..65535");
  require(parsed.value().tls == url.starts_with("https://"), "service url: TLS from the scheme");
  const auto again = parse_service_url(target);
  require(again.ok() && again.value().target == target && !again.value().tls,
          "service url: the target parses to itself");
  return 0;
}
