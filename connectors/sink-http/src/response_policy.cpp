#include "response_policy.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace danube::sink_http {

namespace {

bool is_retryable_status(long status) {
  if (status == 408 || status == 425 || status == 429) return true;
  // 501 Not Implemented and 505 HTTP Version Not Supported do not heal with time.
  return status >= 500 && status <= 599 && status != 501 && status != 505;
}

// The start of a body as one printable line (it ends up in log lines and record errors).
std::string printable(std::string_view text, std::size_t limit) {
  std::string line;
  for (char c : text.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(c);
    line.push_back(byte < 0x20 || byte == 0x7f ? ' ' : c);
  }
  if (text.size() > limit) line += "...";
  return line;
}

}  // namespace

Classification classify(const HttpResponse& response, std::string_view method,
                        std::string_view url) {
  Classification result;
  const std::string request = std::string(method) + " " + std::string(url);
  if (!response.answered()) {
    result.verdict = Verdict::retry;
    result.description = (response.timed_out ? "timeout of " : "no answer to ") + request + ": " +
                         response.transport_error;
    return result;
  }
  result.description = "HTTP " + std::to_string(response.status) + " from " + request;
  if (!response.body_start.empty())
    result.description += ": " + printable(response.body_start, 200);
  if (response.status >= 200 && response.status <= 299) {
    result.verdict = Verdict::delivered;
  } else if (is_retryable_status(response.status)) {
    result.verdict = Verdict::retry;
    if (response.retry_after) {
      result.retry_after =
          parse_retry_after(*response.retry_after, std::chrono::system_clock::now());
    }
  } else {
    result.verdict = Verdict::reject;
  }
  return result;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;  // beyond any sensible wait; and no overflow
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  const std::string text(value);
  const std::time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  const auto delay = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay));
}

std::chrono::milliseconds backoff_delay(const RetrySettings& settings, std::uint32_t retry,
                                        std::mt19937_64& random) {
  const double base = static_cast<double>(settings.backoff.count()) *
                      std::pow(2.0, static_cast<double>(std::max<std::uint32_t>(retry, 1) - 1));
  const double capped = std::min(base, static_cast<double>(settings.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped * jitter(random)));
}

}  // namespace danube::sink_http
