#pragma once

// What an HTTP outcome means for the records of the request: delivered, worth another try
// (no answer, a timeout, 408, 425, 429, 5xx), or refused for good (the other 4xx, 3xx and
// 501/505, which no retry changes).
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "http_client.hpp"
#include "http_sink_settings.hpp"

namespace danube::sink_http {

enum class Verdict { delivered, retry, reject };

struct Classification {
  Verdict verdict = Verdict::delivered;
  // The server's Retry-After, when it gave a usable one with a retryable status.
  std::optional<std::chrono::milliseconds> retry_after;
  // For logs and record errors: "HTTP 503 from POST http://...: <body start>" or the
  // transport error. Never holds a header (the request's headers carry the secrets).
  std::string description;
};

Classification classify(const HttpResponse& response, std::string_view method,
                        std::string_view url);

// Retry-After as delta-seconds ("120") or an HTTP-date; a date in the past is zero. nullopt
// for anything else.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// The wait before retry number `retry` (1 for the first retry): retry_backoff_ms doubled per
// retry up to max_retry_backoff_ms, times a random factor in [0.5, 1.5) so that many sinks
// throttled at once do not come back in step.
std::chrono::milliseconds backoff_delay(const RetrySettings& settings, std::uint32_t retry,
                                        std::mt19937_64& random);

}  // namespace danube::sink_http
