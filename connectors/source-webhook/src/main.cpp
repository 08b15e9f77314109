// danube-source-webhook: an HTTP server that turns webhook requests into Danube messages, a
// drop-in replacement for the Rust connector source-webhook (same connector.toml, same
// attributes, same payload rule). See connectors/source-webhook/README.md.
#include <memory>

#include "danube/runtime/run.hpp"
#include "webhook_config.hpp"
#include "webhook_connector.hpp"

namespace {

// [offsets] commit_interval_ms when neither the file nor the environment sets it. A reliable
// request is answered once its record is committed: the SDK's default (1000 ms) adds up to a
// second to every answer. 0 (commit after every settlement) answers a lone sender fastest but
// under load spends the cores on back-to-back commits (each fsyncs the offset file); 2 ms kept
// a lone sender at about 2 ms and gave the most requests/s under load (README.md, Benchmark).
constexpr std::uint64_t kWebhookCommitIntervalMs = 2;

}  // namespace

int main(int argc, char** argv) {
  const auto environment = danube::connect::Environment::process();
  danube::runtime::RunOptions options;
  for (const char* section : danube::webhook::kOwnSections)
    options.sections.emplace_back(section);
  options.adjust_config = [&environment](danube::connect::ConnectorConfig& config) {
    if (config.origins.count("offsets.commit_interval_ms") == 0) {
      config.offsets.commit_interval_ms = kWebhookCommitIntervalMs;
    }
    // Concurrent HTTP deliveries have no order to keep, and a sender that waits for each answer
    // of a reliable endpoint gets its order anyway (the next event is sent after the broker
    // stored the previous one). Strict ordering would allow one publish in flight per
    // partition and halve what a non-reliable endpoint takes (README.md, Benchmark).
    if (config.origins.count("delivery.ordering") == 0) {
      config.delivery.ordering = danube::connect::Ordering::relaxed;
    }
    // Checked here as well as in initialize(): a bad route or a missing secret ends the process
    // (exit code 2) before the runtime starts anything.
    (void)danube::webhook::parse_webhook_settings(config, environment);
  };
  return danube::runtime::run_source(
      argc, argv, std::make_unique<danube::webhook::WebhookConnector>(environment),
      std::move(options));
}
