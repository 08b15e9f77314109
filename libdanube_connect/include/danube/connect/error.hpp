#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "danube/common/client_error.hpp"

namespace danube::connect {

// How a failure is handled. Only `retryable` is retried; `invalid_data` goes to the dead-letter
// route (or is skipped / fails the connector, per `[dead_letter] policy`); `fatal` stops the
// connector (or restarts it, per `[supervision] on_fatal`).
enum class ErrorKind {
  retryable,
  fatal,
  invalid_data,
  configuration,
  serialization,
  io,
  danube,
};

// "retryable", "fatal", "invalid_data", "configuration", "serialization", "io", "danube".
std::string_view to_string(ErrorKind kind);

// The failure of a connector call, of a record, or of the SDK itself.
//
// It is both an exception (connector methods throw it to fail the whole call) and a value
// (`BatchResult` carries one per failed record).
class ConnectorError : public std::exception {
 public:
  ConnectorError(ErrorKind kind, std::string message);

  static ConnectorError retryable(std::string message);
  static ConnectorError fatal(std::string message);
  static ConnectorError invalid_data(std::string message);
  static ConnectorError configuration(std::string message);
  static ConnectorError serialization(std::string message);
  static ConnectorError io(std::string message);
  // Wraps a client failure, keeping its category. `context` (optional) says what was being
  // done: "subscribe /default/orders".
  static ConnectorError danube(client::Error error, std::string_view context = {});

  // Attaches what led to this error. The text is kept for messages; an exception_ptr is also
  // kept so callers can rethrow or inspect the original.
  ConnectorError& with_cause(std::string cause_text) &;
  ConnectorError&& with_cause(std::string cause_text) &&;
  ConnectorError& with_cause(std::exception_ptr cause) &;
  ConnectorError&& with_cause(std::exception_ptr cause) &&;

  ErrorKind kind() const { return kind_; }
  // The message alone, without the kind prefix or the cause.
  const std::string& message() const { return message_; }
  const std::optional<std::string>& cause() const { return cause_text_; }
  std::exception_ptr cause_exception() const { return cause_exception_; }
  // Set only for kind `danube`.
  const std::optional<client::Error>& client_error() const { return client_error_; }

  bool is_retryable() const { return kind_ == ErrorKind::retryable; }
  bool is_fatal() const { return kind_ == ErrorKind::fatal; }
  bool is_invalid_data() const { return kind_ == ErrorKind::invalid_data; }

  // "invalid_data: field 'x' missing (caused by: ...)". Derived types may render differently.
  const char* what() const noexcept override { return what_.c_str(); }

 protected:
  // For derived types that render their own text in place of "kind: message".
  void set_what_base(std::string text);

 private:
  void render_what();

  ErrorKind kind_;
  std::string message_;
  std::optional<std::string> cause_text_;
  std::exception_ptr cause_exception_;
  std::optional<client::Error> client_error_;
  std::optional<std::string> what_base_;
  std::string what_;
};

// Converts whatever a connector threw into a ConnectorError: a ConnectorError is kept as it
// is, any other exception becomes `fatal` with the exception's text as the cause. Call it only
// inside a catch block.
ConnectorError error_from_current_exception(std::string_view context);

}  // namespace danube::connect
