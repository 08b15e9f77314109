#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace danube::connect {

// Immutable message bytes with shared ownership: copying a Payload (and so a record) never
// copies the bytes.
class Payload {
 public:
  Payload();
  explicit Payload(std::string bytes);
  explicit Payload(std::span<const std::uint8_t> bytes);
  explicit Payload(const std::vector<std::uint8_t>& bytes)
      : Payload(std::span<const std::uint8_t>(bytes)) {}

  std::string_view view() const { return *bytes_; }
  std::span<const std::uint8_t> bytes() const {
    return {reinterpret_cast<const std::uint8_t*>(bytes_->data()), bytes_->size()};
  }
  const std::string& str() const { return *bytes_; }
  std::size_t size() const { return bytes_->size(); }
  bool empty() const { return bytes_->empty(); }
  std::vector<std::uint8_t> to_vector() const { return {bytes().begin(), bytes().end()}; }

  friend bool operator==(const Payload& a, const Payload& b) { return a.view() == b.view(); }

 private:
  std::shared_ptr<const std::string> bytes_;
};

}  // namespace danube::connect
