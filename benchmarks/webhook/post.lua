-- wrk script for the webhook benchmark: POSTs one JSON event (about 200 bytes, like a small
-- Stripe or GitHub delivery) per request, and prints one machine-readable line at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "wrk-webhook-bench"
wrk.body = '{"id":"evt_1NG8Du2eZvKYlo2C","type":"payment_intent.succeeded","object":"event",' ..
           '"created":1700000000,"data":{"object":{"amount":2000,"currency":"usd",' ..
           '"customer":"cus_9s6XKzkNRiz8i3"}},"livemode":false}'

-- GET instead (the HTTP ceiling: a handler that does nothing), when WEBHOOK_BENCH_GET is set.
if os.getenv("WEBHOOK_BENCH_GET") then
  wrk.method = "GET"
  wrk.body = nil
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f " ..
    "max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
