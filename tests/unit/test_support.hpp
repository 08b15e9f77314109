#pragma once
// Helpers shared by the danube_connect unit tests.

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include "danube/connect/error.hpp"
#include "danube/connect/offset.hpp"

namespace danube::connect::test {

// Runs `fn`, which must throw a ConnectorError, and returns that error.
template <class Fn>
ConnectorError caught(Fn&& fn) {
  try {
    fn();
  } catch (const ConnectorError& e) {
    return e;
  }
  BOOST_FAIL("expected a ConnectorError");
  throw std::logic_error("unreachable");
}

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() /
            ("danube-connect-test-" + std::to_string(::getpid()) + "-" + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  std::filesystem::path write(const std::string& name, const std::string& contents) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << contents;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// Polls `predicate` until it holds or `timeout` passes; returns its last value.
inline bool eventually(const std::function<bool()>& predicate,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return predicate();
}

}  // namespace danube::connect::test

// Boost.Test prints values of failed checks; enums print as their number.
namespace danube::connect {
template <class Enum>
requires std::is_enum_v<Enum> std::ostream& boost_test_print_type(std::ostream& out,
                                                                  const Enum& value) {
  return out << static_cast<long long>(value);
}
inline std::ostream& boost_test_print_type(std::ostream& out, const Offset& offset) {
  return out << "Offset{" << offset.partition << ", " << offset.value << ", "
             << offset.metadata.value_or("-") << "}";
}
}  // namespace danube::connect
namespace danube::client {
template <class Enum>
requires std::is_enum_v<Enum> std::ostream& boost_test_print_type(std::ostream& out,
                                                                  const Enum& value) {
  return out << static_cast<long long>(value);
}
}  // namespace danube::client
