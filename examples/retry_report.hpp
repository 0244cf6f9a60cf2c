// What both examples do about retries: give up after `--max-retry-seconds` (default 30: a command line waits
// seconds, not the SDK's hour), and say on stderr why each retry happens.
#pragma once
#include <chrono>
#include <iostream>
#include <map>
#include <string>

#include "boltauth/boltauth.hpp"

inline void report_retries(boltauth::BoltOptions& options, const std::map<std::string, std::string>& args,
                           const std::string& program) {
  const auto it = args.find("--max-retry-seconds");
  const long seconds = it == args.end() ? 30 : std::stol(it->second);
  if (seconds < 0) throw std::invalid_argument("--max-retry-seconds must be 0 or more");
  options.retry_config.backoff.max_elapsed_time = std::chrono::seconds(seconds);
  options.retry_env.on_retry = [program](const boltauth::RetryAttempt& a) {
    std::cerr << program << ": retry " << a.retry << " in " << a.delay.count() << " ms after "
              << (a.status ? "HTTP " + std::to_string(*a.status) : "connection error: " + a.error) << " ("
              << a.elapsed.count() / 1000 << " s so far)\n";
  };
}
