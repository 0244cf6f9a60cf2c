#include "server/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace boltauth::server {

namespace {

using Counter = std::atomic<std::uint64_t>;

constexpr std::array<unsigned, 24> kStatuses = {100, 200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404,
                                                405, 406, 409, 413, 415, 422, 429, 431, 500, 501, 502, 503};
// The error codes the server's answers carry (RFC 6749 5.2, RFC 6750 3.1, OIDC Core 3.1.2.6, RFC 8628 slow_down).
constexpr std::array<std::string_view, 20> kErrors = {"none",
                                                      "invalid_request",
                                                      "invalid_client",
                                                      "invalid_grant",
                                                      "invalid_scope",
                                                      "unauthorized_client",
                                                      "unsupported_grant_type",
                                                      "request_forbidden",
                                                      "slow_down",
                                                      "server_error",
                                                      "temporarily_unavailable",
                                                      "invalid_token",
                                                      "access_denied",
                                                      "login_required",
                                                      "interaction_required",
                                                      "unsupported_response_type",
                                                      "consent_required",
                                                      "insufficient_scope",
                                                      "not_found",
                                                      "other"};
constexpr std::size_t kOtherError = kErrors.size() - 1;
constexpr std::array<std::string_view, 5> kGrants = {"authorization_code", "refresh_token", "client_credentials",
                                                     "urn:ietf:params:oauth:grant-type:token-exchange", "other"};
// Request latency buckets in seconds (upper bounds); the counts are kept per bucket and summed when rendered.
constexpr std::array<double, 14> kLatency = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
constexpr std::array<double, 11> kBatch = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

struct Histogram {
  explicit Histogram(std::size_t buckets) : counts(buckets + 1) {}
  std::vector<Counter> counts;  // the last one: above every bound (+Inf)
  Counter sum{0};               // microseconds, or writes
  Counter count{0};
};

template <std::size_t N>
std::size_t bucket_of(const std::array<double, N>& bounds, double value) {
  return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
}

std::size_t status_index(unsigned status) {
  const auto it = std::lower_bound(kStatuses.begin(), kStatuses.end(), status);
  return it != kStatuses.end() && *it == status ? static_cast<std::size_t>(it - kStatuses.begin()) : kStatuses.size();
}

// The OAuth `error` member of an error answer, without parsing the JSON: a fixed prefix, then the code.
std::size_t error_index(unsigned status, std::string_view body) {
  if (status < 400) return 0;
  const auto at = body.find("\"error\":\"");
  if (at == std::string_view::npos) return kOtherError;
  const auto rest = body.substr(at + 9);
  const auto code = rest.substr(0, rest.find('"'));
  for (std::size_t i = 1; i < kOtherError; ++i)
    if (kErrors[i] == code) return i;
  return kOtherError;
}

void append_number(std::string& out, std::uint64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void append_double(std::string& out, double value) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// Label values are paths and fixed names; escape anyway (exposition format: backslash, quote, newline).
void append_label(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
}

void append_histogram(std::string& out, std::string_view name, std::string_view labels, const Histogram& h,
                      const double* bounds, std::size_t n, double sum_scale) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    cumulative += h.counts[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{";
    out += labels;
    if (!labels.empty()) out += ',';
    out += "le=\"";
    if (i < n)
      append_double(out, bounds[i]);
    else
      out += "+Inf";
    out += "\"} ";
    append_number(out, cumulative);
    out += '\n';
  }
  const std::string open = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
  out += name;
  out += "_sum";
  out += open;
  out += ' ';
  append_double(out, static_cast<double>(h.sum.load(std::memory_order_relaxed)) * sum_scale);
  out += '\n';
  out += name;
  out += "_count";
  out += open;
  out += ' ';
  // The count is the +Inf bucket: both come from the same loads, so a scrape never sees them disagree.
  append_number(out, cumulative);
  out += '\n';
}

}  // namespace

struct Metrics::Impl {
  std::vector<std::string> routes;  // index routes.size(): "other"
  std::unordered_map<std::string_view, std::size_t> route_index;
  std::string version;
  std::string backend;
  std::size_t route_count() const { return routes.size() + 1; }
  // [route][status][error], flattened.
  std::unique_ptr<Counter[]> requests;
  std::vector<std::unique_ptr<Histogram>> latency;  // per route
  std::unique_ptr<Counter[]> bytes;                 // per route
  std::unique_ptr<Counter[]> throttled;             // per route: 429 answers
  std::array<Counter, kGrants.size()> tokens{};
  Counter store_errors{0};
  Histogram batch_sizes{kBatch.size()};
  Histogram commit_latency{kLatency.size()};
  Counter failed_batches{0};
  Counter write_conflicts{0};

  std::size_t route_of(std::string_view path) const {
    const auto it = route_index.find(path);
    return it == route_index.end() ? routes.size() : it->second;
  }
  std::string_view route_name(std::size_t i) const {
    return i < routes.size() ? std::string_view(routes[i]) : std::string_view("other");
  }
};

Metrics::Metrics(std::vector<std::string> routes, std::string version, std::string store_backend)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  m.routes = std::move(routes);
  for (std::size_t i = 0; i < m.routes.size(); ++i) m.route_index.emplace(m.routes[i], i);
  m.version = std::move(version);
  m.backend = std::move(store_backend);
  const std::size_t cells = m.route_count() * (kStatuses.size() + 1) * kErrors.size();
  m.requests = std::make_unique<Counter[]>(cells);
  m.bytes = std::make_unique<Counter[]>(m.route_count());
  m.throttled = std::make_unique<Counter[]>(m.route_count());
  for (std::size_t i = 0; i < m.route_count(); ++i) m.latency.push_back(std::make_unique<Histogram>(kLatency.size()));
}

Metrics::~Metrics() = default;

void Metrics::record_request(std::string_view path, unsigned status, std::string_view body, std::size_t bytes,
                             std::int64_t micros) noexcept {
  auto& m = *impl_;
  const std::size_t route = m.route_of(path);
  const std::size_t cell =
      (route * (kStatuses.size() + 1) + status_index(status)) * kErrors.size() + error_index(status, body);
  m.requests[cell].fetch_add(1, std::memory_order_relaxed);
  m.bytes[route].fetch_add(bytes, std::memory_order_relaxed);
  if (status == 429) m.throttled[route].fetch_add(1, std::memory_order_relaxed);
  auto& h = *m.latency[route];
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0));
  h.counts[bucket_of(kLatency, static_cast<double>(us) / 1e6)].fetch_add(1, std::memory_order_relaxed);
  h.sum.fetch_add(us, std::memory_order_relaxed);
  h.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::token_issued(std::string_view grant_type) noexcept {
  std::size_t i = 0;
  while (i + 1 < kGrants.size() && kGrants[i] != grant_type) ++i;
  impl_->tokens[i].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::store_error() noexcept { impl_->store_errors.fetch_add(1, std::memory_order_relaxed); }

void Metrics::commit_batch(std::size_t writes, std::int64_t micros, bool ok) noexcept {
  auto& m = *impl_;
  m.batch_sizes.counts[bucket_of(kBatch, static_cast<double>(writes))].fetch_add(1, std::memory_order_relaxed);
  m.batch_sizes.sum.fetch_add(writes, std::memory_order_relaxed);
  m.batch_sizes.count.fetch_add(1, std::memory_order_relaxed);
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0));
  m.commit_latency.counts[bucket_of(kLatency, static_cast<double>(us) / 1e6)].fetch_add(1, std::memory_order_relaxed);
  m.commit_latency.sum.fetch_add(us, std::memory_order_relaxed);
  m.commit_latency.count.fetch_add(1, std::memory_order_relaxed);
  if (!ok) m.failed_batches.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::write_conflict() noexcept { impl_->write_conflicts.fetch_add(1, std::memory_order_relaxed); }

std::string Metrics::render(std::size_t connections) const {
  const auto& m = *impl_;
  std::string out;
  out.reserve(16 * 1024);
  out += "# HELP boltauth_build_info Build information (always 1).\n# TYPE boltauth_build_info gauge\n";
  out += "boltauth_build_info{version=\"";
  append_label(out, m.version);
  out += "\",store=\"";
  append_label(out, m.backend);
  out += "\"} 1\n";

  out += "# HELP boltauth_http_connections Connections open now.\n# TYPE boltauth_http_connections gauge\n";
  out += "boltauth_http_connections ";
  append_number(out, connections);
  out += '\n';

  out += "# HELP boltauth_http_requests_total Answered requests by route, status and OAuth error code.\n";
  out += "# TYPE boltauth_http_requests_total counter\n";
  for (std::size_t r = 0; r < m.route_count(); ++r) {
    for (std::size_t s = 0; s <= kStatuses.size(); ++s) {
      for (std::size_t e = 0; e < kErrors.size(); ++e) {
        const auto n =
            m.requests[(r * (kStatuses.size() + 1) + s) * kErrors.size() + e].load(std::memory_order_relaxed);
        if (n == 0) continue;  // label sets never seen are left out
        out += "boltauth_http_requests_total{route=\"";
        append_label(out, m.route_name(r));
        out += "\",status=\"";
        if (s < kStatuses.size())
          append_number(out, kStatuses[s]);
        else
          out += "other";
        out += "\",error=\"";
        out += kErrors[e];
        out += "\"} ";
        append_number(out, n);
        out += '\n';
      }
    }
  }

  out += "# HELP boltauth_http_response_body_bytes_total Bytes of answer bodies by route.\n";
  out += "# TYPE boltauth_http_response_body_bytes_total counter\n";
  for (std::size_t r = 0; r < m.route_count(); ++r) {
    if (m.latency[r]->count.load(std::memory_order_relaxed) == 0) continue;
    out += "boltauth_http_response_body_bytes_total{route=\"";
    append_label(out, m.route_name(r));
    out += "\"} ";
    append_number(out, m.bytes[r].load(std::memory_order_relaxed));
    out += '\n';
  }

  out += "# HELP boltauth_http_request_duration_seconds Time from the end of the request header to the answer.\n";
  out += "# TYPE boltauth_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < m.route_count(); ++r) {
    if (m.latency[r]->count.load(std::memory_order_relaxed) == 0) continue;
    std::string labels = "route=\"";
    append_label(labels, m.route_name(r));
    labels += '"';
    append_histogram(out, "boltauth_http_request_duration_seconds", labels, *m.latency[r], kLatency.data(),
                     kLatency.size(), 1e-6);
  }

  out += "# HELP boltauth_throttle_hits_total Requests refused by a throttle or rate limit (429) by route.\n";
  out += "# TYPE boltauth_throttle_hits_total counter\n";
  for (std::size_t r = 0; r < m.route_count(); ++r) {
    const auto n = m.throttled[r].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out += "boltauth_throttle_hits_total{route=\"";
    append_label(out, m.route_name(r));
    out += "\"} ";
    append_number(out, n);
    out += '\n';
  }

  out += "# HELP boltauth_tokens_issued_total Successful token endpoint answers by grant type.\n";
  out += "# TYPE boltauth_tokens_issued_total counter\n";
  for (std::size_t g = 0; g < kGrants.size(); ++g) {
    out += "boltauth_tokens_issued_total{grant_type=\"";
    out += kGrants[g];
    out += "\"} ";
    append_number(out, m.tokens[g].load(std::memory_order_relaxed));
    out += '\n';
  }

  out += "# HELP boltauth_store_errors_total Requests that failed on the store (nothing of them was kept).\n";
  out += "# TYPE boltauth_store_errors_total counter\nboltauth_store_errors_total ";
  append_number(out, m.store_errors.load(std::memory_order_relaxed));
  out += '\n';

  out += "# HELP boltauth_store_commit_batch_writes Writes made durable together by one group commit.\n";
  out += "# TYPE boltauth_store_commit_batch_writes histogram\n";
  append_histogram(out, "boltauth_store_commit_batch_writes", "", m.batch_sizes, kBatch.data(), kBatch.size(), 1);
  out +=
      "# HELP boltauth_store_commit_duration_seconds Time for one group commit to become durable (SQLite: "
      "COMMIT and the WAL fdatasync; PostgreSQL: the batch round trip).\n";
  out += "# TYPE boltauth_store_commit_duration_seconds histogram\n";
  append_histogram(out, "boltauth_store_commit_duration_seconds", "", m.commit_latency, kLatency.data(),
                   kLatency.size(), 1e-6);
  out += "# HELP boltauth_store_commit_failures_total Group commits that failed (every write in them failed).\n";
  out += "# TYPE boltauth_store_commit_failures_total counter\nboltauth_store_commit_failures_total ";
  append_number(out, m.failed_batches.load(std::memory_order_relaxed));
  out += '\n';
  out +=
      "# HELP boltauth_store_write_conflicts_total Token requests run a second time because the write their read "
      "predicted found its row consumed by another request when its batch ran (PostgreSQL).\n";
  out += "# TYPE boltauth_store_write_conflicts_total counter\nboltauth_store_write_conflicts_total ";
  append_number(out, m.write_conflicts.load(std::memory_order_relaxed));
  out += '\n';
  return out;
}

}  // namespace boltauth::server
