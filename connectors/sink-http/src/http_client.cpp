#include "http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

namespace danube::sink_http {

namespace {

// Only so much of an answer is kept: enough for an error message, bounded for a huge body.
constexpr std::size_t kKeptBodyBytes = 512;

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct MultiDeleter {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// curl_global_init is not thread-safe and must run once before any handle: a function-local
// static does both without global mutable state of our own.
void ensure_curl_initialized() {
  static const CURLcode initialized = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (initialized != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

// One transfer: an easy handle (kept for reuse) and what the current request needs to live.
struct Transfer {
  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, HeaderListDeleter> headers;
  HttpRequest request;
  HttpResponse response;
  std::array<char, CURL_ERROR_SIZE> error_text{};

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self) {
    auto& response = static_cast<Transfer*>(self)->response;
    const std::size_t bytes = size * count;
    const std::size_t room = kKeptBodyBytes - std::min(kKeptBodyBytes, response.body_start.size());
    response.body_start.append(data, std::min(room, bytes));
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) {
    auto& response = static_cast<Transfer*>(self)->response;
    const std::string_view line(data, size * count);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos &&
        equals_ignoring_case(trimmed(line.substr(0, colon)), "Retry-After")) {
      response.retry_after = std::string(trimmed(line.substr(colon + 1)));
    }
    // A status line starts the headers of a new response (after a 100 Continue, say).
    if (line.starts_with("HTTP/")) response.retry_after.reset();
    return size * count;
  }
};

struct HttpClient::Impl {
  std::unique_ptr<CURLM, MultiDeleter> multi;
  std::string user_agent;
  std::vector<std::unique_ptr<Transfer>> idle;
  std::vector<std::unique_ptr<Transfer>> active;

  void configure(Transfer& transfer) {
    CURL* easy = transfer.easy.get();
    const HttpRequest& request = transfer.request;
    curl_easy_reset(easy);
    curl_slist* list = nullptr;
    for (const auto& header : request.headers)
      list = curl_slist_append(list, header.c_str());
    // libcurl would otherwise ask for "100 Continue" before large bodies: a round trip for
    // nothing, since the body goes anyway.
    list = curl_slist_append(list, "Expect:");
    transfer.headers.reset(list);
    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are threaded
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (request.ca_file) curl_easy_setopt(easy, CURLOPT_CAINFO, request.ca_file->c_str());
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_text.data());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
  }

  HttpResponse finish(CURL* easy, CURLcode code) {
    const auto found = std::find_if(active.begin(), active.end(), [&](const auto& transfer) {
      return transfer->easy.get() == easy;
    });
    if (found == active.end()) throw std::logic_error("curl finished an unknown transfer");
    std::unique_ptr<Transfer> transfer = std::move(*found);
    active.erase(found);
    curl_multi_remove_handle(multi.get(), easy);

    HttpResponse response = std::move(transfer->response);
    response.tag = transfer->request.tag;
    double seconds = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds);
    response.elapsed = std::chrono::duration<double>(seconds);
    if (code == CURLE_OK) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
    } else {
      response.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      const std::string detail = transfer->error_text[0] != '\0'
                                     ? std::string(transfer->error_text.data())
                                     : std::string(curl_easy_strerror(code));
      response.transport_error = detail;
    }
    transfer->request = HttpRequest{};  // frees the body now, not at the next request
    transfer->headers.reset();
    idle.push_back(std::move(transfer));
    return response;
  }
};

HttpClient::HttpClient(std::size_t max_connections, std::string user_agent)
    : impl_(std::make_unique<Impl>()) {
  ensure_curl_initialized();
  impl_->multi.reset(curl_multi_init());
  if (!impl_->multi) throw std::runtime_error("curl_multi_init failed");
  impl_->user_agent = std::move(user_agent);
  curl_multi_setopt(impl_->multi.get(), CURLMOPT_MAXCONNECTS,
                    static_cast<long>(std::max<std::size_t>(max_connections, 1)));
}

HttpClient::~HttpClient() {
  for (const auto& transfer : impl_->active) {
    curl_multi_remove_handle(impl_->multi.get(), transfer->easy.get());
  }
}

void HttpClient::start(HttpRequest request) {
  std::unique_ptr<Transfer> transfer;
  if (!impl_->idle.empty()) {
    transfer = std::move(impl_->idle.back());
    impl_->idle.pop_back();
  } else {
    transfer = std::make_unique<Transfer>();
    transfer->easy.reset(curl_easy_init());
    if (!transfer->easy) throw std::runtime_error("curl_easy_init failed");
  }
  transfer->request = std::move(request);
  transfer->response = HttpResponse{};
  transfer->error_text[0] = '\0';
  impl_->configure(*transfer);
  const CURLMcode added = curl_multi_add_handle(impl_->multi.get(), transfer->easy.get());
  if (added != CURLM_OK) {
    impl_->idle.push_back(std::move(transfer));
    throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(added));
  }
  impl_->active.push_back(std::move(transfer));
}

std::vector<HttpResponse> HttpClient::wait(std::chrono::milliseconds timeout) {
  std::vector<HttpResponse> finished;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int running = 0;
    curl_multi_perform(impl_->multi.get(), &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(impl_->multi.get(), &queued)) {
      if (message->msg == CURLMSG_DONE) {
        finished.push_back(impl_->finish(message->easy_handle, message->data.result));
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!finished.empty() || now >= deadline) return finished;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    // curl_multi_poll waits the whole timeout even without transfers, which is what a caller
    // waiting for a retry's time wants.
    curl_multi_poll(impl_->multi.get(), nullptr, 0,
                    static_cast<int>(std::max<std::int64_t>(left.count(), 1)), nullptr);
  }
}

std::size_t HttpClient::in_flight() const {
  return impl_->active.size();
}

}  // namespace danube::sink_http
