#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include "boltauth/http.hpp"

namespace boltauth {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

struct Sink {
  HttpResponse* response;
  std::size_t limit;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->response->body.size() + n > sink->limit) {
    sink->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  // A new status line (after 100 Continue, or a proxy's CONNECT answer) starts a new header block.
  if (line.rfind("HTTP/", 0) == 0) {
    sink->response->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    sink->response->headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return n;
}

// Errors raised before any byte of the request can have left (name resolution, TCP connect, TLS handshake).
bool before_send(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return true;
    default:
      return false;
  }
}

struct CurlSlist {
  curl_slist* list = nullptr;
  ~CurlSlist() { curl_slist_free_all(list); }
  bool add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return std::nullopt;
}

struct CurlTransport::Impl {
  CurlTransportOptions options;
  std::mutex mutex;
  std::vector<CURL*> idle;

  CURL* acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        // Reset clears the options but keeps the handle's connection cache, so keep-alive connections are reused.
        curl_easy_reset(h);
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* h) {
    std::lock_guard lock(mutex);
    if (idle.size() < options.max_idle_handles) {
      idle.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }
};

CurlTransport::CurlTransport(CurlTransportOptions options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag once;
  // curl_global_init is not thread-safe on older libcurl; once per process, never cleaned up (other code may use it).
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->options = std::move(options);
}

CurlTransport::~CurlTransport() {
  for (CURL* h : impl_->idle) curl_easy_cleanup(h);
}

TransportResult CurlTransport::send(const HttpRequest& request) {
  TransportResult result;
  CURL* h = impl_->acquire();
  if (h == nullptr) {
    result.error = "curl_easy_init failed";
    result.request_sent = false;
    return result;
  }
  HttpResponse response;
  Sink sink{&response, impl_->options.max_response_bytes};
  CurlSlist headers;
  bool ok = true;
  for (const auto& [name, value] : request.headers) ok = ok && headers.add(name + ": " + value);
  // libcurl would add "Expect: 100-continue" to larger POSTs, costing a round trip.
  ok = ok && headers.add("Expect:");
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const auto timeout = request.timeout.count() > 0 ? request.timeout : impl_->options.timeout;

  ok = ok && curl_easy_setopt(h, CURLOPT_URL, request.url.c_str()) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;  // threads: no SIGALRM for DNS timeouts
  ok = ok && curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
  if (!impl_->options.ca_file.empty())
    ok = ok && curl_easy_setopt(h, CURLOPT_CAINFO, impl_->options.ca_file.c_str()) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count())) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                              static_cast<long>(impl_->options.connect_timeout.count())) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer) == CURLE_OK;
  ok = ok && curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
  if (request.method == "POST") {
    ok = ok && curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    ok = ok &&
         curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size())) == CURLE_OK;
    ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data()) == CURLE_OK;
  } else if (request.method != "GET") {
    ok = ok && curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str()) == CURLE_OK;
    if (!request.body.empty()) {
      ok = ok &&
           curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size())) == CURLE_OK;
      ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data()) == CURLE_OK;
    }
  }
  if (!ok) {
    impl_->release(h);
    result.error = "could not set up the request";
    result.request_sent = false;
    return result;
  }

  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) {
    long sent_bytes = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent_bytes);
    result.request_sent = !(before_send(code) || sent_bytes == 0);
    result.error = sink.too_large ? std::string("response body larger than the limit")
                                  : std::string(curl_easy_strerror(code)) +
                                        (error_buffer[0] ? std::string(": ") + error_buffer : "");
    impl_->release(h);
    return result;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  impl_->release(h);
  response.status = static_cast<int>(status);
  result.response = std::move(response);
  return result;
}

}  // namespace boltauth
