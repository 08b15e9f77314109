#include "danube/connect/error_type.hpp"

namespace danube::connect {

std::string_view to_string(ErrorType type) {
  switch (type) {
    case ErrorType::retryable:
      return "retryable";
    case ErrorType::fatal:
      return "fatal";
    case ErrorType::invalid_data:
      return "invalid_data";
    case ErrorType::configuration:
      return "configuration";
    case ErrorType::serialization:
      return "serialization";
    case ErrorType::io:
      return "io";
    case ErrorType::danube:
      return "danube";
    case ErrorType::decode:
      return "decode";
    case ErrorType::schema:
      return "schema";
    case ErrorType::publish:
      return "publish";
    case ErrorType::ack:
      return "ack";
    case ErrorType::timeout:
      return "timeout";
    case ErrorType::dead_letter:
      return "dead_letter";
    case ErrorType::poll:
      return "poll";
    case ErrorType::commit:
      return "commit";
    case ErrorType::health_check:
      return "health_check";
    case ErrorType::other:
      return "other";
  }
  return "other";
}

ErrorType error_type_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::retryable:
      return ErrorType::retryable;
    case ErrorKind::fatal:
      return ErrorType::fatal;
    case ErrorKind::invalid_data:
      return ErrorType::invalid_data;
    case ErrorKind::configuration:
      return ErrorType::configuration;
    case ErrorKind::serialization:
      return ErrorType::serialization;
    case ErrorKind::io:
      return ErrorType::io;
    case ErrorKind::danube:
      return ErrorType::danube;
  }
  return ErrorType::other;
}

}  // namespace danube::connect
