#pragma once

#include <string_view>

#include "danube/connect/error.hpp"

namespace danube::connect {

// The bounded set of values of the `error_type` metric label. Error kinds map one to one onto
// the first seven; the rest name the runtime step that failed.
enum class ErrorType {
  retryable,
  fatal,
  invalid_data,
  configuration,
  serialization,
  io,
  danube,
  decode,        // a received payload did not decode with its schema
  schema,        // schema lookup, registration or subject mismatch
  publish,       // a send to the broker failed
  ack,           // an ack to the broker failed
  timeout,       // a step exceeded its deadline
  dead_letter,   // publishing to the dead-letter topic failed
  poll,          // a source's poll() failed
  commit,        // a source's commit() failed
  health_check,  // a connector's health_check() failed
  other,
};

inline constexpr int kErrorTypeCount = static_cast<int>(ErrorType::other) + 1;

// "retryable", ..., "health_check", "other": always one of a fixed set of strings.
std::string_view to_string(ErrorType type);

ErrorType error_type_of(ErrorKind kind);
inline ErrorType error_type_of(const ConnectorError& error) {
  return error_type_of(error.kind());
}

}  // namespace danube::connect
