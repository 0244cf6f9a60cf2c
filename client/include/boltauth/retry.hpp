#pragma once
/// @file
/// Retries as Speakeasy-generated SDKs (Bolt's) do: exponential backoff with jitter on 429/500/502/503/504 and on
/// connection errors, honouring `Retry-After`, bounded by a maximum elapsed time.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boltauth/http.hpp"

namespace boltauth {

/// Speakeasy's `BackoffStrategy` with its defaults.
struct BackoffStrategy {
  std::chrono::milliseconds initial_interval{500};
  std::chrono::milliseconds max_interval{60'000};
  double exponent = 1.5;
  /// No new attempt starts once this much time has passed since the first one.
  std::chrono::milliseconds max_elapsed_time{3'600'000};
};

/// Speakeasy's `RetryConfig`.
struct RetryConfig {
  enum class Strategy { none, backoff };
  Strategy strategy = Strategy::backoff;
  BackoffStrategy backoff;
  bool retry_connection_errors = true;
  /// Statuses that are retried (for idempotent requests; see Idempotency).
  std::vector<int> status_codes{429, 500, 502, 503, 504};
};

/// Whether a request may be repeated after it may have reached the server. The token endpoint is not idempotent:
/// a code is single use and a second redemption revokes what the first issued; a rotated refresh token presented
/// again revokes its whole family (contract section 3, RFC 9700 section 4.14.2). So for non-idempotent requests
/// only outcomes that prove the server did not act are retried: a connection error before any byte was sent,
/// 429 (refused before processing) and 503 (RFC 9110 section 15.6.4: the server is not handling the request).
enum class Idempotency { idempotent, non_idempotent };

/// One retry about to happen: what failed, and how long the SDK waits before trying again.
struct RetryAttempt {
  int retry = 0;  ///< 1 for the first retry
  std::chrono::milliseconds delay{0};
  std::chrono::milliseconds elapsed{0};  ///< since the first attempt
  std::optional<int> status;             ///< the retried response's status; empty after a connection error
  std::string error;                     ///< the transport's error after a connection error
};

/// Time, sleeping and jitter, injectable so the schedule can be tested without waiting.
struct RetryEnv {
  /// Called before each retry's wait (a CLI reports it on stderr, so a down server is never a silent hang).
  std::function<void(const RetryAttempt&)> on_retry;
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
  std::function<std::chrono::system_clock::time_point()> wall_now = [] { return std::chrono::system_clock::now(); };
  std::function<void(std::chrono::milliseconds)> sleep;  ///< empty: std::this_thread::sleep_for
  std::function<double()> jitter;                        ///< uniform in [0, 1); empty: a thread-local PRNG
};

/// Delay before retry number `retry` (0 for the first retry): min(initial * exponent^retry + jitter * 1 s,
/// max_interval), Speakeasy's formula. `jitter` is in [0, 1).
std::chrono::milliseconds backoff_delay(const BackoffStrategy& backoff, int retry, double jitter);

/// `Retry-After` (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date. nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// Whether `result` is worth another attempt under `config` and `idempotency`.
bool is_retryable(const TransportResult& result, const RetryConfig& config, Idempotency idempotency);

/// Sends `request`, retrying per `config`; returns the last result. A `Retry-After` on a retried response
/// replaces the computed delay (capped at max_interval); no retry starts after max_elapsed_time.
TransportResult send_with_retries(Transport& transport, const HttpRequest& request, const RetryConfig& config,
                                  Idempotency idempotency, const RetryEnv& env = {});

}  // namespace boltauth
