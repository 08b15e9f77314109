#include "connection_string.hpp"

#include <libpq-fe.h>

#include <memory>
#include <vector>

namespace danube::sink_postgres {

namespace {

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using Options = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

struct ParseResult {
  Options options;
  std::string error;
};

ParseResult parse(std::string_view text) {
  char* error_text = nullptr;
  const std::string owned(text);
  Options options(PQconninfoParse(owned.c_str(), &error_text));
  ParseResult result{std::move(options), ""};
  if (error_text) {
    result.error = error_text;
    PQfreemem(error_text);
    while (!result.error.empty() && result.error.back() == '\n')
      result.error.pop_back();
  }
  return result;
}

}  // namespace

std::string quote_conninfo_value(std::string_view value) {
  std::string quoted = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::optional<std::string> ConnectionString::problem(std::string_view text) {
  const auto parsed = parse(text);
  if (!parsed.options) {
    return "not a libpq connection string: " +
           (parsed.error.empty() ? std::string("out of memory") : parsed.error);
  }
  for (const auto* option = parsed.options.get(); option->keyword; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val) {
      return "must not contain a password; set password_env (the name of an environment "
             "variable) or password_file instead";
    }
  }
  return std::nullopt;
}

ConnectionString::ConnectionString(std::string_view text, int connect_timeout_secs) {
  const auto parsed = parse(text);
  bool has_application_name = false;
  bool has_connect_timeout = false;
  std::vector<std::string> described;
  for (const auto* option = parsed.options.get(); option && option->keyword; ++option) {
    if (!option->val) continue;
    const std::string_view keyword = option->keyword;
    // Payloads are JSON, that is UTF-8, and COPY's escaping relies on it: always UTF-8.
    if (keyword == "client_encoding") continue;
    has_application_name |= keyword == "application_name";
    has_connect_timeout |= keyword == "connect_timeout";
    keyword_values_ += std::string(keyword) + "=" + quote_conninfo_value(option->val) + " ";
    if (keyword == "host" || keyword == "hostaddr" || keyword == "port" || keyword == "dbname" ||
        keyword == "user" || keyword == "sslmode") {
      described.push_back(std::string(keyword) + "=" + option->val);
    }
  }
  keyword_values_ += "client_encoding='UTF8' ";
  if (!has_application_name) keyword_values_ += "application_name='danube-sink-postgres' ";
  if (!has_connect_timeout) {
    keyword_values_ += "connect_timeout=" + std::to_string(connect_timeout_secs) + " ";
  }
  for (const auto& part : described) {
    description_ += (description_.empty() ? "" : " ") + part;
  }
  if (description_.empty()) description_ = "libpq defaults";
}

std::string ConnectionString::with_password(const std::optional<std::string>& password) const {
  if (!password) return keyword_values_;
  return keyword_values_ + "password=" + quote_conninfo_value(*password);
}

}  // namespace danube::sink_postgres
