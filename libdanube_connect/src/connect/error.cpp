#include "danube/connect/error.hpp"

#include <utility>

namespace danube::connect {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::retryable:
      return "retryable";
    case ErrorKind::fatal:
      return "fatal";
    case ErrorKind::invalid_data:
      return "invalid_data";
    case ErrorKind::configuration:
      return "configuration";
    case ErrorKind::serialization:
      return "serialization";
    case ErrorKind::io:
      return "io";
    case ErrorKind::danube:
      return "danube";
  }
  return "unknown";
}

ConnectorError::ConnectorError(ErrorKind kind, std::string message)
    : kind_(kind), message_(std::move(message)) {
  render_what();
}

ConnectorError ConnectorError::retryable(std::string message) {
  return {ErrorKind::retryable, std::move(message)};
}
ConnectorError ConnectorError::fatal(std::string message) {
  return {ErrorKind::fatal, std::move(message)};
}
ConnectorError ConnectorError::invalid_data(std::string message) {
  return {ErrorKind::invalid_data, std::move(message)};
}
ConnectorError ConnectorError::configuration(std::string message) {
  return {ErrorKind::configuration, std::move(message)};
}
ConnectorError ConnectorError::serialization(std::string message) {
  return {ErrorKind::serialization, std::move(message)};
}
ConnectorError ConnectorError::io(std::string message) {
  return {ErrorKind::io, std::move(message)};
}

ConnectorError ConnectorError::danube(client::Error error, std::string_view context) {
  std::string message =
      context.empty() ? error.to_string() : std::string(context) + ": " + error.to_string();
  ConnectorError result(ErrorKind::danube, std::move(message));
  result.client_error_ = std::move(error);
  return result;
}

ConnectorError& ConnectorError::with_cause(std::string cause_text) & {
  cause_text_ = std::move(cause_text);
  render_what();
  return *this;
}

ConnectorError&& ConnectorError::with_cause(std::string cause_text) && {
  return std::move(with_cause(std::move(cause_text)));
}

ConnectorError& ConnectorError::with_cause(std::exception_ptr cause) & {
  cause_exception_ = cause;
  if (cause) {
    try {
      std::rethrow_exception(cause);
    } catch (const std::exception& e) {
      cause_text_ = e.what();
    } catch (...) {
      cause_text_ = "unknown exception";
    }
  }
  render_what();
  return *this;
}

ConnectorError&& ConnectorError::with_cause(std::exception_ptr cause) && {
  return std::move(with_cause(cause));
}

void ConnectorError::set_what_base(std::string text) {
  what_base_ = std::move(text);
  render_what();
}

void ConnectorError::render_what() {
  if (what_base_) {
    what_ = *what_base_;
  } else {
    what_ = std::string(to_string(kind_)) + ": " + message_;
  }
  if (cause_text_) what_ += " (caused by: " + *cause_text_ + ")";
}

ConnectorError error_from_current_exception(std::string_view context) {
  const std::string prefix = context.empty() ? std::string() : std::string(context) + ": ";
  try {
    throw;
  } catch (const ConnectorError& e) {
    return e;
  } catch (const std::exception&) {
    return ConnectorError::fatal(prefix + "unexpected exception")
        .with_cause(std::current_exception());
  } catch (...) {
    return ConnectorError::fatal(prefix + "unexpected non-standard exception");
  }
}

}  // namespace danube::connect
