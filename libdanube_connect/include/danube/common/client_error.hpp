#pragma once

#include <string>
#include <string_view>

namespace danube::client {

// The Danube client's error, shared by every layer above it (the connector API wraps it in
// ConnectorError::danube). It lives in danube_common so that layer need not link the client.

// What kind of failure a client call ended with; callers decide on retries, dead-lettering
// or stopping from the category alone.
enum class ErrorCategory {
  retryable,         // transient: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED
  unavailable,       // broker unreachable or refusing for now: UNAVAILABLE
  not_found,         // unknown topic, producer or consumer: NOT_FOUND
  invalid_argument,  // bad topic name, message too big: INVALID_ARGUMENT, OUT_OF_RANGE
  precondition,      // dispatch strategy or schema mismatch: FAILED_PRECONDITION, ALREADY_EXISTS
  unauthenticated,   // missing or bad token: UNAUTHENTICATED
  permission,        // denied, or a publish the broker refused: PERMISSION_DENIED
  cancelled,         // the client was closed or the call cancelled: CANCELLED
  internal,          // everything else
};

std::string_view to_string(ErrorCategory category);

// One error type for every client failure: the category, the gRPC status code (0 when the
// failure did not come from gRPC) and a message that says what failed.
class Error {
 public:
  Error(ErrorCategory category, int grpc_code, std::string message)
      : category_(category), grpc_code_(grpc_code), message_(std::move(message)) {}

  // Classifies a gRPC status code (as its integer value) into a category.
  static Error from_grpc_status(int grpc_code, std::string message);

  ErrorCategory category() const { return category_; }
  int grpc_code() const { return grpc_code_; }
  const std::string& message() const { return message_; }

  // Retryable and unavailable errors may succeed when tried again.
  bool is_retryable() const {
    return category_ == ErrorCategory::retryable || category_ == ErrorCategory::unavailable;
  }

  // "unavailable (grpc 14): connection refused"
  std::string to_string() const;

 private:
  ErrorCategory category_;
  int grpc_code_;
  std::string message_;
};

// The category a gRPC status code (as its integer value) belongs to.
ErrorCategory category_of_grpc_code(int grpc_code);

}  // namespace danube::client
