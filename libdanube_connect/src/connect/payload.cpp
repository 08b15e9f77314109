#include "danube/connect/payload.hpp"

namespace danube::connect {

namespace {
const std::shared_ptr<const std::string>& empty_bytes() {
  // Immutable, so sharing it is not shared mutable state.
  static const auto empty = std::make_shared<const std::string>();
  return empty;
}
}  // namespace

Payload::Payload() : bytes_(empty_bytes()) {}

Payload::Payload(std::string bytes)
    : bytes_(std::make_shared<const std::string>(std::move(bytes))) {}

Payload::Payload(std::span<const std::uint8_t> bytes)
    : bytes_(std::make_shared<const std::string>(reinterpret_cast<const char*>(bytes.data()),
                                                 bytes.size())) {}

}  // namespace danube::connect
