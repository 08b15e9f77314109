#pragma once

// What the webhook tests share: signing requests the way GitHub, Stripe and JWT issuers do, a
// libcurl client, and danube-source-webhook as a process (its config, environment and port).
#include <curl/curl.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "crypto.hpp"
#include "danube/connect/serialization.hpp"

namespace danube::webhook::test {

using namespace std::chrono_literals;

inline std::string base64url(std::string_view bytes) {
  std::string text = connect::serialization::base64_encode(bytes);
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  for (auto& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An HS256 token with `claims` (and a signature made with `secret`).
inline std::string hs256_token(const std::string& secret, const nlohmann::json& claims,
                               const std::string& algorithm = "HS256") {
  const std::string signing_input =
      base64url(nlohmann::json{{"alg", algorithm}, {"typ", "JWT"}}.dump()) + "." +
      base64url(claims.dump());
  return signing_input + "." + base64url(hmac(HmacAlgorithm::sha256, secret, signing_input));
}

// GitHub's X-Hub-Signature-256 value for `body`.
inline std::string github_signature(const std::string& secret, std::string_view body) {
  return "sha256=" + to_hex(hmac(HmacAlgorithm::sha256, secret, body));
}

// Stripe's Stripe-Signature value for `body` signed at `timestamp`.
inline std::string stripe_signature(const std::string& secret, std::int64_t timestamp,
                                    std::string_view body) {
  const std::string signed_payload = std::to_string(timestamp) + "." + std::string(body);
  return "t=" + std::to_string(timestamp) +
         ",v1=" + to_hex(hmac(HmacAlgorithm::sha256, secret, signed_payload));
}

struct HttpAnswer {
  long status = 0;  // 0: no answer (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case

  std::optional<std::string> header(const std::string& name) const {
    const auto found = headers.find(name);
    if (found == headers.end()) return std::nullopt;
    return found->second;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One libcurl easy handle (a kept-alive connection between calls).
class HttpClient {
 public:
  HttpClient() : curl_(curl_easy_init()) {
    if (!curl_) throw std::runtime_error("curl_easy_init failed");
  }
  ~HttpClient() { curl_easy_cleanup(curl_); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpAnswer request(const std::string& method, const std::string& url, const std::string& body,
                     const std::vector<std::string>& headers = {},
                     std::chrono::milliseconds timeout = 30s, bool insecure_tls = false) {
    HttpAnswer answer;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    if (method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method != "GET") {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (insecure_tls) {
      curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_slist* list = nullptr;
    for (const auto& header : headers)
      list = curl_slist_append(list, header.c_str());
    // A large body is sent at once, not after a 100-continue that never comes.
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpClient::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &HttpClient::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &answer.headers);
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (code == CURLE_OK) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &answer.status);
    return answer;
  }

  HttpAnswer post(const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers = {},
                  std::chrono::milliseconds timeout = 30s) {
    return request("POST", url, body, headers, timeout);
  }
  HttpAnswer get(const std::string& url) { return request("GET", url, ""); }

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* target) {
    static_cast<std::string*>(target)->append(data, size * count);
    return size * count;
  }
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* target) {
    const std::string line(data, size * count);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' '))
        value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
        value.pop_back();
      (*static_cast<std::map<std::string, std::string>*>(target))[name] = value;
    }
    return size * count;
  }

  CURL* curl_;
};

inline const std::filesystem::path kWebhookBinary = CONNECTOR_PATH;
inline const std::filesystem::path kBrokerBinary = DANUBE_EMBEDDED_BROKER_PATH;
inline const std::filesystem::path kSimpleSinkBinary = SIMPLE_SINK_PATH;

// danube-source-webhook as a process: CONNECTOR_CONFIG_PATH and extra variables (secrets,
// SERVER_PORT), its log, and the port of its webhook listener.
class WebhookProcess {
 public:
  WebhookProcess(std::filesystem::path config_file, std::filesystem::path log_dir,
                 std::vector<std::string> environment = {},
                 std::optional<std::filesystem::path> working_directory = std::nullopt)
      : config_file_(std::move(config_file)),
        log_dir_(std::move(log_dir)),
        environment_(std::move(environment)),
        working_directory_(std::move(working_directory)) {}

  // Starts it; with `wait_listening`, waits for its webhook listener and runtime.
  void start(bool wait_listening = true, std::chrono::milliseconds timeout = 30s) {
    ++starts_;
    log_file_ = log_dir_ / ("webhook." + std::to_string(starts_) + ".log");
    std::vector<std::string> environment = environment_;
    environment.push_back("CONNECTOR_CONFIG_PATH=" + config_file_.string());
    std::vector<std::string> argv{kWebhookBinary.string()};
    if (working_directory_) {
      // Relative paths in a config (schema files) resolve against the working directory.
      argv = {
          "/bin/sh", "-c",
          "cd '" + working_directory_->string() + "' && exec '" + kWebhookBinary.string() + "'"};
    }
    process_ = std::make_unique<chaos::Process>("webhook", argv, environment, log_file_);
    log_ = std::make_unique<chaos::LogWatcher>(log_file_);
    if (!wait_listening) return;
    const auto alive = [this] { return process_->running(); };
    const auto listening = log_->wait_for("event=webhook_listening", timeout, 0, alive);
    const auto address = listening ? chaos::log_field(*listening, "address") : std::nullopt;
    if (!address) throw std::runtime_error("the webhook did not start listening\n" + log_->tail());
    port_ = static_cast<std::uint16_t>(std::stoi(address->substr(address->rfind(':') + 1)));
    if (!log_->wait_for("event=runtime_running", timeout, 0, alive)) {
      throw std::runtime_error("the webhook runtime did not start\n" + log_->tail());
    }
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::uint16_t port() const { return port_; }
  chaos::Process& process() { return *process_; }
  chaos::LogWatcher& log() { return *log_; }
  bool running() { return process_ && process_->running(); }
  // SIGTERM, then the exit status.
  chaos::ExitStatus stop(std::chrono::milliseconds timeout = 20s) {
    process_->signal(SIGTERM);
    auto status = process_->wait(timeout);
    if (status.timed_out) process_->kill();
    return status;
  }

 private:
  std::filesystem::path config_file_;
  std::filesystem::path log_dir_;
  std::vector<std::string> environment_;
  std::optional<std::filesystem::path> working_directory_;
  int starts_ = 0;
  std::filesystem::path log_file_;
  std::unique_ptr<chaos::Process> process_;
  std::unique_ptr<chaos::LogWatcher> log_;
  std::uint16_t port_ = 0;
};

// The SDK part of a webhook config for the tests: fast timers, ports picked by the system,
// offsets in `state_dir`. `tables` follows as is ([server], [auth], [[routes]], ...).
inline std::string webhook_toml(const std::string& service_url, const std::string& name,
                                const std::filesystem::path& state_dir, const std::string& tables) {
  return "danube_service_url = \"" + service_url + "\"\nconnector_name = \"" + name +
         "\"\n[processing]\nmetrics_port = 0\nhealth_check_interval_ms = 1000\n"
         "[http]\nbind_address = \"127.0.0.1\"\n"
         "[retry]\nmax_retries = 100\nretry_backoff_ms = 50\nmax_backoff_ms = 500\n"
         "[shutdown]\ntimeout_ms = 10000\n"
         "[supervision]\non_fatal = \"restart\"\nmax_restarts = 100\nrestart_backoff_ms = 100\n"
         "max_restart_backoff_ms = 1000\n"
         "[offsets]\nstate_dir = \"" +
         state_dir.string() + "\"\n" + tables;
}

// A simple_sink on `topic` that writes each payload as a line of `output` and prints every
// record (with its attributes) to its log.
inline std::string sink_toml(const std::string& service_url, const std::string& name,
                             const std::string& topic, const std::filesystem::path& output) {
  chaos::ConnectorToml toml;
  toml.service_url = service_url;
  toml.connector_name = name;
  toml.extra = "[offsets]\nstate_dir = \"" + (output.parent_path() / (name + "-state")).string() +
               "\"\n[simple_sink]\ntopic = \"" + topic + "\"\nsubscription = \"" + name +
               "\"\nprint_every = 1\noutput_file = \"" + output.string() + "\"\n";
  return toml.render();
}

// What the connector publishes for a JSON body (the Rust payload rule: the parsed value, written
// back compactly with its keys sorted); other text unchanged.
inline std::string canonical(const std::string& text) {
  const auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? text : value.dump();
}

// Every line of a file (empty when it does not exist).
inline std::vector<std::string> read_lines(const std::filesystem::path& file) {
  chaos::FileTail tail(file);
  return tail.read_new_lines();
}

}  // namespace danube::webhook::test
