#include "danube/common/client_error.hpp"

namespace danube::client {
namespace {

// gRPC status codes as integers, so this header-light file needs no gRPC include.
enum GrpcCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

}  // namespace

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::retryable:
      return "retryable";
    case ErrorCategory::unavailable:
      return "unavailable";
    case ErrorCategory::not_found:
      return "not_found";
    case ErrorCategory::invalid_argument:
      return "invalid_argument";
    case ErrorCategory::precondition:
      return "precondition";
    case ErrorCategory::unauthenticated:
      return "unauthenticated";
    case ErrorCategory::permission:
      return "permission";
    case ErrorCategory::cancelled:
      return "cancelled";
    case ErrorCategory::internal:
      return "internal";
  }
  return "internal";
}

ErrorCategory category_of_grpc_code(int grpc_code) {
  switch (grpc_code) {
    case kDeadlineExceeded:
    case kResourceExhausted:
    case kAborted:
      return ErrorCategory::retryable;
    case kUnavailable:
      return ErrorCategory::unavailable;
    case kNotFound:
      return ErrorCategory::not_found;
    case kInvalidArgument:
    case kOutOfRange:
      return ErrorCategory::invalid_argument;
    case kFailedPrecondition:
    case kAlreadyExists:
      return ErrorCategory::precondition;
    case kUnauthenticated:
      return ErrorCategory::unauthenticated;
    case kPermissionDenied:
      return ErrorCategory::permission;
    case kCancelled:
      return ErrorCategory::cancelled;
    default:
      return ErrorCategory::internal;
  }
}

Error Error::from_grpc_status(int grpc_code, std::string message) {
  return Error(category_of_grpc_code(grpc_code), grpc_code, std::move(message));
}

std::string Error::to_string() const {
  std::string text(danube::client::to_string(category_));
  if (grpc_code_ != kOk) text += " (grpc " + std::to_string(grpc_code_) + ")";
  text += ": ";
  text += message_;
  return text;
}

}  // namespace danube::client
