// boltauth_loadgen: a closed-loop or fixed-rate HTTP/1.1 load generator with keep-alive connections,
// per-connection workload state (refresh chains) and latency percentiles (issue 6, docs/benchmarks.md).
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alternation.hpp"
#include "histogram.hpp"
#include "pg_watch.hpp"
#include "server_watch.hpp"
#include "workload.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace boltauth::bench;

namespace {

struct Options {
  std::string host = "127.0.0.1";  // of the first --url: the Host header
  std::string port = "8080";
  // Every --url (host, port): connection i goes to urls[i % urls.size()], so several servers share the
  // connections evenly (several nodes on one database).
  std::vector<std::pair<std::string, std::string>> urls;
  // --alternate: a second set of servers. Each set gets `connections` connections of its own, and the two sets
  // take turns, slice by slice (Alternation); each set's figures are printed on a line of their own.
  std::vector<std::pair<std::string, std::string>> alt_urls;
  double slice = 1;
  WorkloadKind workload = WorkloadKind::floor;
  int connections = 32;
  int threads = 1;
  double duration = 10;
  double warmup = 2;
  double rate = 0;  // requests per second in total; 0: closed loop
  std::string seed_file;
  bool json = false;
  std::string label;
  Target target;
  std::vector<int> watch_pids;  // read the write_bytes of these processes (summed) when the measured window opens
                                // and when it closes
  std::string watch_dir;        // not empty: sample the size of the server's store files every 100 ms
  std::string watch_pg;         // not empty: a PostgreSQL URL; WAL position and counters when the window opens/closes
};

// What --watch-pid / --watch-dir observed. write_bytes is sampled when the measured window opens (after the
// warm-up) and when it closes; the store size from the first request to the last, warm-up included.
struct Watch {
  std::optional<std::uint64_t> write_bytes_from, write_bytes_to;
  std::uint64_t store_start = 0, store_peak = 0, store_end = 0;
  bool store_sampled = false;
  std::optional<PgSample> pg_from, pg_to;
};

/// The sum of the processes' write_bytes; nullopt when any of them cannot be read.
std::optional<std::uint64_t> sum_write_bytes(const std::vector<int>& pids) {
  std::uint64_t total = 0;
  for (const int pid : pids) {
    const auto bytes = read_write_bytes(static_cast<pid_t>(pid));
    if (!bytes) return std::nullopt;
    total += *bytes;
  }
  return total;
}

class Watcher {
 public:
  Watcher(const Options& o, Clock::time_point from, Clock::time_point to) : o_(o), from_(from), to_(to) {
    if (!o_.watch_pg.empty()) pg_ = std::make_unique<PgWatch>(o_.watch_pg);  // connect now, not in the window
    if (!o_.watch_pids.empty() || !o_.watch_dir.empty() || pg_) thread_ = std::thread([this] { loop(); });
  }
  /// Stops sampling (after the generator's threads ended) and returns what was seen.
  Watch finish() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return watch_;
  }

 private:
  void sample_store() {
    if (o_.watch_dir.empty()) return;
    const auto bytes = store_bytes(o_.watch_dir);
    if (!watch_.store_sampled) watch_.store_start = bytes;
    watch_.store_sampled = true;
    watch_.store_peak = std::max(watch_.store_peak, bytes);
    watch_.store_end = bytes;
  }
  void loop() {
    const bool edges = !o_.watch_pids.empty() || pg_ != nullptr;  // something to take at the window's edges
    bool took_from = false, took_to = false;
    auto next_sample = Clock::now();
    std::unique_lock lock(mutex_);
    for (;;) {
      const auto now = Clock::now();
      if (edges && !took_from && now >= from_) {
        if (!o_.watch_pids.empty()) watch_.write_bytes_from = sum_write_bytes(o_.watch_pids);
        if (pg_) watch_.pg_from = pg_->sample();
        took_from = true;
      }
      if (edges && !took_to && now >= to_) {
        if (!o_.watch_pids.empty()) watch_.write_bytes_to = sum_write_bytes(o_.watch_pids);
        if (pg_) watch_.pg_to = pg_->sample();
        took_to = true;
      }
      if (now >= next_sample) {
        sample_store();
        next_sample += std::chrono::milliseconds(100);
        if (next_sample < now) next_sample = now + std::chrono::milliseconds(100);
      }
      if (stop_) break;
      auto wake = next_sample;
      if (edges && !took_from) wake = std::min(wake, from_);
      if (edges && !took_to) wake = std::min(wake, to_);
      cv_.wait_until(lock, wake, [this] { return stop_; });
    }
    sample_store();
  }

  const Options& o_;
  Clock::time_point from_, to_;
  Watch watch_;
  std::unique_ptr<PgWatch> pg_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Per-thread results, merged at the end.
struct Stats {
  Histogram latency;
  std::map<int, std::uint64_t> status;  // counted in the measured window
  std::uint64_t transport_errors = 0;
  std::uint64_t restarts = 0;
  std::uint64_t max_chain = 0;
  std::vector<std::uint64_t> slice_ok;  // with --alternate: 2xx answers to requests sent in each measured slice
};

struct Shared {
  const Options& options;
  Seed seed;
  TokenPool spare;
  TokenPool codes;
  TokenPool access;
  Clock::time_point measure_from;
  Clock::time_point measure_to;
  std::atomic<int> exhausted{0};
  std::optional<Alternation> alternation;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& ioc, Shared& shared, Stats& stats, tcp::resolver::results_type endpoints,
             Clock::duration interval, Clock::time_point first_send, int set = 0)
      : stream_(ioc),
        timer_(ioc),
        shared_(shared),
        stats_(stats),
        endpoints_(std::move(endpoints)),
        state_(shared.options.workload, shared.options.target, shared.seed, shared.spare, shared.codes, shared.access),
        interval_(interval),
        scheduled_(first_send),
        set_(set) {}

  void start() { connect(); }

 private:
  void connect() {
    stream_.async_connect(endpoints_, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec) {
        ++self->stats_.transport_errors;
        if (Clock::now() >= self->shared_.measure_to) return;
        self->timer_.expires_after(std::chrono::milliseconds(50));
        self->timer_.async_wait([self](beast::error_code) { self->connect(); });
        return;
      }
      beast::error_code ignored;
      self->stream_.socket().set_option(tcp::no_delay(true), ignored);
      self->schedule();
    });
  }

  void schedule() {
    if (shared_.alternation) {
      // Closed loop in the set's own slices only: between them the connection waits, idle and open.
      const auto now = Clock::now();
      const auto at = shared_.alternation->next_start(set_, now);
      if (at <= now) return send(now);
      timer_.expires_at(at);
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->schedule();
      });
      return;
    }
    if (interval_ == Clock::duration::zero()) return send(Clock::now());
    // Fixed rate: latency counts from the intended send time, so a slow answer that delays the next request
    // is charged to it (no coordinated omission).
    const auto at = scheduled_;
    scheduled_ += interval_;
    if (at <= Clock::now()) return send(at);
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(), at](beast::error_code ec) {
      if (!ec) self->send(at);
    });
  }

  void send(Clock::time_point intended) {
    if (intended >= shared_.measure_to) return close();
    auto call = state_.next();
    if (!call) {
      shared_.exhausted.fetch_add(1);
      return close();
    }
    req_ = {};
    req_.method(call->method == "GET" ? bhttp::verb::get : bhttp::verb::post);
    req_.target(call->path);
    req_.version(11);
    req_.set(bhttp::field::host, shared_.options.host);
    req_.keep_alive(true);
    if (req_.method() == bhttp::verb::post) {
      req_.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
      req_.body() = std::move(call->body);
    }
    req_.prepare_payload();
    intended_ = intended;
    bhttp::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail();
      self->res_.emplace();
      self->res_->body_limit(1 << 20);
      bhttp::async_read(self->stream_, self->buffer_, *self->res_,
                        [self](beast::error_code read_ec, std::size_t) { self->on_read(read_ec); });
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) return fail();
    const auto done = Clock::now();
    auto& res = res_->get();
    const int status = static_cast<int>(res.result_int());
    state_.on_response(status, res.body());
    if (intended_ >= shared_.measure_from && intended_ < shared_.measure_to) {
      stats_.latency.record(
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(done - intended_).count()));
      ++stats_.status[status];
      if (shared_.alternation && status >= 200 && status < 300) {
        const auto k = static_cast<std::size_t>(shared_.alternation->slice_of(intended_));
        if (k < stats_.slice_ok.size()) ++stats_.slice_ok[k];
      }
    }
    stats_.max_chain = std::max<std::uint64_t>(stats_.max_chain, state_.chain_length());
    const bool again = res.keep_alive();
    res_.reset();
    if (!again) {
      beast::error_code ignored;
      stream_.socket().close(ignored);
      return connect();
    }
    schedule();
  }

  void fail() {
    ++stats_.transport_errors;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    // The request may or may not have been processed: a refresh chain cannot know, so it restarts.
    state_.on_response(0, {});
    if (Clock::now() < shared_.measure_to) connect();
  }

  void close() {
    stats_.restarts += state_.chain_restarts();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Shared& shared_;
  Stats& stats_;
  tcp::resolver::results_type endpoints_;
  ConnectionState state_;
  Clock::duration interval_;
  Clock::time_point scheduled_;
  Clock::time_point intended_;
  int set_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  std::optional<bhttp::response_parser<bhttp::string_body>> res_;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "boltauth_loadgen: " << why << "\n"
            << "usage: boltauth_loadgen --url http://HOST:PORT[,http://HOST:PORT...] --workload "
               "refresh|code_exchange_openid|introspect|client_credentials|floor\n"
               "  [--seed FILE] [--connections N] [--threads N] [--duration S] [--warmup S] [--rate RPS]\n"
               "  [--token-path P] [--introspect-path P] [--floor-path P] [--scope S] [--refresh-scope S] "
               "[--redirect-uri U]\n"
               "  [--label L] [--json] [--watch-pid PID[,PID...]] [--watch-dir DATA_DIR] [--watch-pg URL]\n"
               "  [--alternate http://HOST:PORT[,...] [--slice S]]\n"
               "--url and --watch-pid may be repeated; connections go to the URLs in turn.\n"
               "--alternate: a second set of servers with --connections of its own; the --url set owns the even\n"
               "  slices of S seconds (default 1) of the run, this set the odd ones; one result line per set.\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    auto urls = [&](std::vector<std::pair<std::string, std::string>>& into) {
      const std::string list = value();
      for (std::size_t start = 0; start <= list.size();) {
        const auto comma = std::min(list.find(',', start), list.size());
        std::string url = list.substr(start, comma - start);
        start = comma + 1;
        if (url.empty()) continue;
        if (url.rfind("http://", 0) == 0) url = url.substr(7);
        url = url.substr(0, url.find('/'));
        const auto colon = url.rfind(':');
        if (colon == std::string::npos) usage(a + " needs a port");
        into.emplace_back(url.substr(0, colon), url.substr(colon + 1));
      }
    };
    if (a == "--url")
      urls(o.urls);
    else if (a == "--alternate")
      urls(o.alt_urls);
    else if (a == "--slice")
      o.slice = std::stod(value());
    else if (a == "--workload") {
      auto w = parse_workload(value());
      if (!w) usage("unknown workload");
      o.workload = *w;
    } else if (a == "--seed")
      o.seed_file = value();
    else if (a == "--connections")
      o.connections = std::stoi(value());
    else if (a == "--threads")
      o.threads = std::stoi(value());
    else if (a == "--duration")
      o.duration = std::stod(value());
    else if (a == "--warmup")
      o.warmup = std::stod(value());
    else if (a == "--rate")
      o.rate = std::stod(value());
    else if (a == "--token-path")
      o.target.token_path = value();
    else if (a == "--introspect-path")
      o.target.introspect_path = value();
    else if (a == "--floor-path")
      o.target.floor_path = value();
    else if (a == "--scope")
      o.target.code_scope = value();
    else if (a == "--refresh-scope")
      o.target.refresh_scope = value();
    else if (a == "--redirect-uri")
      o.target.redirect_uri = value();
    else if (a == "--label")
      o.label = value();
    else if (a == "--json")
      o.json = true;
    else if (a == "--watch-pid") {
      const std::string list = value();
      for (std::size_t start = 0; start < list.size();) {
        const auto comma = std::min(list.find(',', start), list.size());
        if (comma > start) o.watch_pids.push_back(std::stoi(list.substr(start, comma - start)));
        start = comma + 1;
      }
    } else if (a == "--watch-pg")
      o.watch_pg = value();
    else if (a == "--watch-dir")
      o.watch_dir = value();
    else
      usage("unknown argument " + a);
  }
  if (o.urls.empty()) o.urls.emplace_back(o.host, o.port);
  o.host = o.urls.front().first;
  o.port = o.urls.front().second;
  if (o.connections < 1 || o.threads < 1 || o.duration <= 0 || o.warmup < 0 ||
      std::any_of(o.watch_pids.begin(), o.watch_pids.end(), [](int pid) { return pid <= 0; }))
    usage("bad numbers");
  if (!o.alt_urls.empty()) {
    // Whole pairs of slices in the window, so each set is measured for exactly half of it.
    const double pairs = o.duration / (2 * o.slice);
    if (o.slice < 0.1 || std::abs(pairs - std::round(pairs)) > 1e-9 || pairs < 1)
      usage("--duration must be a whole number of --slice pairs (2 x slice), slice >= 0.1 s");
    if (o.rate > 0) usage("--alternate runs closed loop only (no --rate)");
    if (!o.watch_pids.empty() || !o.watch_dir.empty() || !o.watch_pg.empty())
      usage("--alternate cannot split what --watch-* reads between the two sets");
  }
  o.threads = std::min(o.threads, o.connections * (o.alt_urls.empty() ? 1 : 2));
  return o;
}

/// One set's result line with --alternate: its requests over its half of the window, and its 2xx answers in
/// each of its own slices, in order (slice 2i for set 0, 2i + 1 for set 1).
void print_set(const Options& o, const Stats& total, int set, int exhausted) {
  const double seconds = o.duration / 2;
  std::uint64_t errors = total.transport_errors;
  std::uint64_t ok = 0;
  for (const auto& [code, n] : total.status) {
    if (code != 200) errors += n;
    if (code >= 200 && code < 300) ok += n;
  }
  const double rps = static_cast<double>(total.latency.count()) / seconds;
  auto ms = [&](double p) { return static_cast<double>(total.latency.percentile(p)) / 1000.0; };
  const auto& urls = set == 0 ? o.urls : o.alt_urls;
  if (!o.json) {
    std::printf(
        "set %c (%zu server(s)): %s: %llu requests in %.1f s of %.1f s slices = %.0f req/s; p50 %.3f ms, p99 "
        "%.3f ms; errors %llu, connections out of work %d\n",
        set == 0 ? 'a' : 'b', urls.size(), std::string(workload_name(o.workload)).c_str(),
        static_cast<unsigned long long>(total.latency.count()), seconds, o.slice, rps, ms(50), ms(99),
        static_cast<unsigned long long>(errors), exhausted);
    return;
  }
  std::printf(R"({"workload":"%s","label":"%s","set":"%c","connections":%d,"requests":%llu,"rps":%.1f,)"
              R"("p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,"errors":%llu,)"
              R"("transport_errors":%llu,"chain_restarts":%llu,"exhausted":%d,"ok":%llu,"targets":%zu,)"
              R"("seconds":%.3f,"slice_s":%.3f,"slices":[)",
              std::string(workload_name(o.workload)).c_str(), o.label.c_str(), set == 0 ? 'a' : 'b', o.connections,
              static_cast<unsigned long long>(total.latency.count()), rps, ms(50), ms(90), ms(99), ms(99.9),
              static_cast<double>(total.latency.max()) / 1000.0, static_cast<unsigned long long>(errors),
              static_cast<unsigned long long>(total.transport_errors), static_cast<unsigned long long>(total.restarts),
              exhausted, static_cast<unsigned long long>(ok), urls.size(), seconds, o.slice);
  bool first = true;
  for (std::size_t k = static_cast<std::size_t>(set); k < total.slice_ok.size(); k += 2) {
    std::printf("%s%llu", first ? "" : ",", static_cast<unsigned long long>(total.slice_ok[k]));
    first = false;
  }
  std::printf("],\"status\":{");
  first = true;
  for (const auto& [code, n] : total.status) {
    std::printf(R"(%s"%d":%llu)", first ? "" : ",", code, static_cast<unsigned long long>(n));
    first = false;
  }
  std::printf("}}\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  Seed seed;
  if (!options.seed_file.empty()) {
    std::ifstream in(options.seed_file);
    if (!in) usage("cannot read " + options.seed_file);
    std::stringstream text;
    text << in.rdbuf();
    seed = parse_seed(text.str());
  }
  auto refresh = seed.refresh_tokens;
  auto codes = seed.codes;
  auto access = seed.access_tokens;
  Shared shared{options,
                std::move(seed),
                TokenPool(std::move(refresh)),
                TokenPool(std::move(codes)),
                TokenPool(std::move(access)),
                {},
                {},
                {},
                std::nullopt};
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  shared.measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.warmup));
  shared.measure_to = shared.measure_from +
                      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration));
  const Clock::duration interval =
      options.rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(options.connections) / options.rate))
                       : Clock::duration::zero();

  std::optional<Watcher> watcher_storage;
  try {
    watcher_storage.emplace(options, shared.measure_from, shared.measure_to);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  Watcher& watcher = *watcher_storage;
  const int sets = options.alt_urls.empty() ? 1 : 2;
  std::size_t slices = 0;  // measured slices, both sets'
  if (sets == 2) {
    shared.alternation.emplace(
        shared.measure_from, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.slice)));
    slices = static_cast<std::size_t>(std::llround(options.duration / options.slice));
  }
  // stats[t * sets + set]: thread t's connections to one set.
  std::vector<Stats> stats(static_cast<std::size_t>(options.threads * sets));
  for (auto& s : stats) s.slice_ok.assign(slices, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      asio::io_context ioc(1);
      tcp::resolver resolver(ioc);
      std::vector<tcp::resolver::results_type> endpoints[2];
      for (const auto& [host, port] : options.urls) endpoints[0].push_back(resolver.resolve(host, port));
      for (const auto& [host, port] : options.alt_urls) endpoints[1].push_back(resolver.resolve(host, port));
      // Connections [0, N) go to the --url set, [N, 2N) to the --alternate set, each to its set's URLs in turn;
      // thread t takes every threads-th, so each thread serves both sets.
      for (int c = t; c < options.connections * sets; c += options.threads) {
        const int set = c / options.connections;
        const int index = c % options.connections;
        auto& to = endpoints[set];
        // Stagger fixed-rate connections over one interval so the offered load is smooth.
        const auto offset = interval * index / options.connections;
        std::make_shared<Connection>(ioc, shared, stats[static_cast<std::size_t>(t * sets + set)],
                                     to[static_cast<std::size_t>(index) % to.size()], interval, start + offset, set)
            ->start();
      }
      // A server that stops answering must not hang the run: give up 5 s after the window.
      ioc.run_until(shared.measure_to + std::chrono::seconds(5));
    });
  }
  for (auto& th : threads) th.join();
  const Watch watch = watcher.finish();

  auto merged = [&](int set) {
    Stats total;
    total.slice_ok.assign(slices, 0);
    for (int t = 0; t < options.threads; ++t) {
      const auto& s = stats[static_cast<std::size_t>(t * sets + set)];
      total.latency.merge(s.latency);
      for (auto& [code, n] : s.status) total.status[code] += n;
      total.transport_errors += s.transport_errors;
      total.restarts += s.restarts;
      total.max_chain = std::max(total.max_chain, s.max_chain);
      for (std::size_t k = 0; k < slices; ++k) total.slice_ok[k] += s.slice_ok[k];
    }
    return total;
  };
  if (sets == 2) {
    for (int set = 0; set < 2; ++set) print_set(options, merged(set), set, shared.exhausted.load());
    return 0;
  }
  const Stats total = merged(0);
  std::uint64_t errors = total.transport_errors;
  std::uint64_t ok = 0;  // 2xx answers in the measured window
  for (auto& [code, n] : total.status) {
    if (code != 200) errors += n;
    if (code >= 200 && code < 300) ok += n;
  }
  // Bytes the server wrote per 2xx answer of the measured window (warm-up excluded).
  std::optional<std::uint64_t> written;
  if (watch.write_bytes_from && watch.write_bytes_to && *watch.write_bytes_to >= *watch.write_bytes_from)
    written = *watch.write_bytes_to - *watch.write_bytes_from;
  // What the cluster did in the window: WAL bytes from the insert position (exact), the rest from pg_stat_*.
  std::optional<PgSample> pg;
  if (watch.pg_from && watch.pg_to) pg = *watch.pg_to - *watch.pg_from;
  constexpr double mib = 1024.0 * 1024.0;
  const double rps = static_cast<double>(total.latency.count()) / options.duration;
  auto ms = [&](double p) { return static_cast<double>(total.latency.percentile(p)) / 1000.0; };
  if (options.json) {
    std::printf(R"({"workload":"%s","label":"%s","connections":%d,"rate":%.0f,"requests":%llu,"rps":%.1f,)"
                R"("p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,"errors":%llu,)"
                R"("transport_errors":%llu,"chain_restarts":%llu,"longest_chain":%llu,"exhausted":%d,"status":{)",
                std::string(workload_name(options.workload)).c_str(), options.label.c_str(), options.connections,
                options.rate, static_cast<unsigned long long>(total.latency.count()), rps, ms(50), ms(90), ms(99),
                ms(99.9), static_cast<double>(total.latency.max()) / 1000.0, static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(total.transport_errors),
                static_cast<unsigned long long>(total.restarts), static_cast<unsigned long long>(total.max_chain),
                shared.exhausted.load());
    bool first = true;
    for (auto& [code, n] : total.status) {
      std::printf(R"(%s"%d":%llu)", first ? "" : ",", code, static_cast<unsigned long long>(n));
      first = false;
    }
    std::printf("}");
    std::printf(R"(,"ok":%llu,"targets":%zu)", static_cast<unsigned long long>(ok), options.urls.size());
    if (written) {
      std::printf(R"(,"write_bytes":%llu)", static_cast<unsigned long long>(*written));
      if (ok > 0) std::printf(R"(,"bytes_per_request":%.1f)", static_cast<double>(*written) / static_cast<double>(ok));
    }
    if (watch.store_sampled)
      std::printf(R"(,"store_start_mib":%.2f,"store_peak_mib":%.2f,"store_end_mib":%.2f)",
                  static_cast<double>(watch.store_start) / mib, static_cast<double>(watch.store_peak) / mib,
                  static_cast<double>(watch.store_end) / mib);
    if (pg) {
      const double per = ok > 0 ? static_cast<double>(ok) : 1.0;
      std::printf(R"(,"wal_bytes":%lld,"wal_records":%lld,"wal_fpi":%lld,"wal_write":%lld,"wal_sync":%lld,)"
                  R"("wal_write_ms":%.1f,"wal_sync_ms":%.1f,"commits":%lld,"write_transactions":%lld,)"
                  R"("wal_bytes_per_request":%.1f,"wal_syncs_per_s":%.1f,"wal_syncs_per_request":%.4f,)"
                  R"("wal_writes_per_request":%.4f,"commits_per_request":%.3f,"write_transactions_per_request":%.3f)",
                  static_cast<long long>(pg->wal_lsn), static_cast<long long>(pg->wal_records),
                  static_cast<long long>(pg->wal_fpi), static_cast<long long>(pg->wal_write),
                  static_cast<long long>(pg->wal_sync), pg->wal_write_ms, pg->wal_sync_ms,
                  static_cast<long long>(pg->xact_commit), static_cast<long long>(pg->next_xid),
                  static_cast<double>(pg->wal_lsn) / per, static_cast<double>(pg->wal_sync) / options.duration,
                  static_cast<double>(pg->wal_sync) / per, static_cast<double>(pg->wal_write) / per,
                  static_cast<double>(pg->xact_commit) / per, static_cast<double>(pg->next_xid) / per);
      if (pg->wal_sync > 0 && pg->wal_sync_ms > 0)
        std::printf(R"(,"wal_sync_avg_ms":%.3f)", pg->wal_sync_ms / static_cast<double>(pg->wal_sync));
    }
    std::printf("}\n");
  } else {
    std::printf("%s: %llu requests in %.1f s = %.0f req/s\n", std::string(workload_name(options.workload)).c_str(),
                static_cast<unsigned long long>(total.latency.count()), options.duration, rps);
    std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", ms(50), ms(90), ms(99), ms(99.9),
                static_cast<double>(total.latency.max()) / 1000.0);
    for (auto& [code, n] : total.status) std::printf("status %d: %llu\n", code, static_cast<unsigned long long>(n));
    std::printf("transport errors: %llu, chain restarts: %llu, longest chain: %llu, connections out of work: %d\n",
                static_cast<unsigned long long>(total.transport_errors),
                static_cast<unsigned long long>(total.restarts), static_cast<unsigned long long>(total.max_chain),
                shared.exhausted.load());
    if (written)
      std::printf("server wrote %llu bytes in the window = %.0f per 2xx answer\n",
                  static_cast<unsigned long long>(*written),
                  ok > 0 ? static_cast<double>(*written) / static_cast<double>(ok) : 0.0);
    if (watch.store_sampled)
      std::printf("store files (db + wal + shm, apparent size): %.1f MiB at start, peak %.1f MiB, %.1f MiB at end\n",
                  static_cast<double>(watch.store_start) / mib, static_cast<double>(watch.store_peak) / mib,
                  static_cast<double>(watch.store_end) / mib);
    if (pg)
      std::printf(
          "postgres: %lld WAL bytes = %.0f per 2xx answer; %lld WAL syncs (%.0f/s, %.3f per answer), %lld WAL "
          "writes, %lld transactions of which %lld wrote\n",
          static_cast<long long>(pg->wal_lsn),
          ok > 0 ? static_cast<double>(pg->wal_lsn) / static_cast<double>(ok) : 0.0,
          static_cast<long long>(pg->wal_sync), static_cast<double>(pg->wal_sync) / options.duration,
          ok > 0 ? static_cast<double>(pg->wal_sync) / static_cast<double>(ok) : 0.0,
          static_cast<long long>(pg->wal_write), static_cast<long long>(pg->xact_commit),
          static_cast<long long>(pg->next_xid));
  }
  return 0;
}
