#include "boltauth/retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <random>
#include <thread>

namespace boltauth {
namespace {

using std::chrono::milliseconds;

double default_jitter() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

bool transport_retryable(const TransportResult& r, const RetryConfig& config, Idempotency idempotency) {
  if (!config.retry_connection_errors) return false;
  return idempotency == Idempotency::idempotent || !r.request_sent;
}

}  // namespace

milliseconds backoff_delay(const BackoffStrategy& backoff, int retry, double jitter) {
  const double base = static_cast<double>(backoff.initial_interval.count()) * std::pow(backoff.exponent, retry);
  const double ms = base + std::clamp(jitter, 0.0, 1.0) * 1000.0;
  const double cap = static_cast<double>(backoff.max_interval.count());
  return milliseconds(static_cast<std::int64_t>(std::min(ms, cap)));
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size() || seconds > 365LL * 24 * 3600) return std::nullopt;
    return milliseconds(seconds * 1000);
  }
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (the only form senders may generate, RFC 9110 section 5.6.7).
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t at = timegm(&tm);
  if (at == static_cast<std::time_t>(-1)) return std::nullopt;
  const auto delta = std::chrono::system_clock::from_time_t(at) - now;
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(delta));
}

bool is_retryable(const TransportResult& result, const RetryConfig& config, Idempotency idempotency) {
  if (config.strategy == RetryConfig::Strategy::none) return false;
  if (!result.response) return transport_retryable(result, config, idempotency);
  const int status = result.response->status;
  if (std::find(config.status_codes.begin(), config.status_codes.end(), status) == config.status_codes.end()) {
    return false;
  }
  return idempotency == Idempotency::idempotent || status == 429 || status == 503;
}

TransportResult send_with_retries(Transport& transport, const HttpRequest& request, const RetryConfig& config,
                                  Idempotency idempotency, const RetryEnv& env) {
  const auto start = env.now();
  for (int retry = 0;; ++retry) {
    TransportResult result = transport.send(request);
    if (!is_retryable(result, config, idempotency)) return result;
    milliseconds delay = backoff_delay(config.backoff, retry, env.jitter ? env.jitter() : default_jitter());
    if (result.response) {
      if (auto header = result.response->header("retry-after")) {
        if (auto after = parse_retry_after(*header, env.wall_now()))
          delay = std::min(*after, config.backoff.max_interval);
      }
    }
    // Speakeasy gives up once max_elapsed_time has passed; we also do not start a sleep that would end past it.
    const auto elapsed = std::chrono::duration_cast<milliseconds>(env.now() - start);
    if (elapsed + delay > config.backoff.max_elapsed_time) return result;
    if (env.on_retry) {
      RetryAttempt attempt;
      attempt.retry = retry + 1;
      attempt.delay = delay;
      attempt.elapsed = elapsed;
      if (result.response) attempt.status = result.response->status;
      attempt.error = result.error;
      env.on_retry(attempt);
    }
    if (env.sleep) {
      env.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace boltauth
