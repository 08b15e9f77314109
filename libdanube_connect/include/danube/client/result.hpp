#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "danube/common/client_error.hpp"

namespace danube::client {

// A value or the Error that prevented it. The client reports every failure through this
// type (or through callbacks taking it) instead of throwing, so callers on any thread can
// classify failures by category without exception plumbing.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Success carries nothing.
struct Done {};
using Status = Result<Done>;

}  // namespace danube::client
