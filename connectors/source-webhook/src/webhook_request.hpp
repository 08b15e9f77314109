#pragma once

// An HTTP request and answer as the webhook logic sees them, free of the HTTP server library so
// that the logic is tested without sockets.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace danube::webhook {

// A header value without the spaces and tabs HTTP allows around it and around list items.
inline std::string_view trim_header_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// Request headers, looked up case-insensitively.
class RequestHeaders {
 public:
  virtual ~RequestHeaders() = default;
  virtual std::optional<std::string_view> find(std::string_view name) const = 0;
};

// Headers held in a map (tests, tools).
class MapHeaders final : public RequestHeaders {
 public:
  MapHeaders() = default;
  MapHeaders(std::initializer_list<std::pair<const std::string, std::string>> headers) {
    for (const auto& [name, value] : headers)
      set(name, value);
  }
  void set(std::string_view name, std::string value) { headers_[lower(name)] = std::move(value); }
  std::optional<std::string_view> find(std::string_view name) const override {
    const auto found = headers_.find(lower(name));
    if (found == headers_.end()) return std::nullopt;
    return std::string_view(found->second);
  }

 private:
  static std::string lower(std::string_view text) {
    std::string result(text);
    for (auto& c : result)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return result;
  }
  std::map<std::string, std::string> headers_;
};

struct WebhookRequest {
  std::string_view method;
  std::string_view path;  // without the query string
  const RequestHeaders& headers;
  std::string_view peer_address;  // the socket's remote address
};

// The request body, read only once the request passed the cheaper checks.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // The Content-Length, when the client sent one.
  virtual std::optional<std::uint64_t> declared_length() const = 0;
  // Reads the whole body into `out`; false when it is longer than `limit` bytes.
  virtual bool read(std::size_t limit, std::string& out) = 0;
};

// A body already in memory (tests, tools).
class StringBody final : public BodySource {
 public:
  explicit StringBody(std::string body) : body_(std::move(body)) {}
  std::optional<std::uint64_t> declared_length() const override { return body_.size(); }
  bool read(std::size_t limit, std::string& out) override {
    if (body_.size() > limit) return false;
    out = body_;
    return true;
  }

 private:
  std::string body_;
};

struct WebhookResponse {
  int status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace danube::webhook
