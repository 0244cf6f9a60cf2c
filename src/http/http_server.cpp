#include "http/http_server.hpp"
#include "http/request_id.hpp"
#include "http/trusted_proxies.hpp"

#include <sys/resource.h>
#include <csignal>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace boltauth::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// One I/O thread's event loop for the store (core::ports::EventLoop): waits on the store's descriptors in the
/// thread's io_context. It also holds the connections whose requests wait on such a read, so that they go with the
/// io_context they live on, whatever the store still holds (only a weak reference to them).
class IoLoop final : public core::ports::EventLoop {
 public:
  explicit IoLoop(asio::io_context& ioc) : ioc_(ioc) {}
  ~IoLoop() override {
    for (auto& [fd, descriptor] : descriptors_) descriptor->release();  // the store closes its own
  }
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  void await(int fd, bool write, std::function<void(bool)> ready) override {
    auto& descriptor = descriptors_[fd];
    if (!descriptor) descriptor = std::make_unique<asio::posix::stream_descriptor>(ioc_, fd);
    descriptor->async_wait(
        write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read,
        [ready = std::move(ready)](const boost::system::error_code& ec) { ready(!ec); });
  }
  void forget(int fd) noexcept override {
    const auto it = descriptors_.find(fd);
    if (it == descriptors_.end()) return;
    boost::system::error_code ignored;
    it->second->cancel(ignored);
    it->second->release();
    descriptors_.erase(it);
  }
  void post(std::function<void()> fn) override { asio::post(ioc_, std::move(fn)); }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto timer = std::make_shared<asio::steady_timer>(ioc_, delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }

  void park(std::shared_ptr<void> connection) {
    void* key = connection.get();
    parked_.emplace(key, std::move(connection));
  }
  void unpark(void* connection) { parked_.erase(connection); }

 private:
  asio::io_context& ioc_;
  std::unordered_map<int, std::unique_ptr<asio::posix::stream_descriptor>> descriptors_;
  std::unordered_map<void*, std::shared_ptr<void>> parked_;
};

}  // namespace

struct HttpServer::Impl {
  // Counters first: sessions still queued in an io_context touch them while it is destroyed.
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> awaiting_commit{0};  // answers held until their batch is durable
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  bool listening = false;
  ServerOptions options;
  Handler handler;
  Logger log;
  Pipeline pipeline;
  TrustedProxies proxies;
  // One io_context per I/O thread: a connection's handlers all run on its thread, without strand or lock.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<std::unique_ptr<IoLoop>> loops;  // one per io_context; destroyed before them
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::size_t next_ioc = 0;  // touched by accept completions only, which run on iocs[0]'s single thread
  std::unique_ptr<asio::thread_pool> workers;
  // On iocs[0], run by one thread: accept completions and the close in stop() never run at the same time.
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> accept_retry;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  // run_until_signal() waits on these; stop() from any thread also ends the wait.
  std::mutex wait_mutex;
  std::condition_variable wait_cv;
  bool wake_waiter = false;

  Impl(ServerOptions o, Handler h, Logger l, Pipeline p)
      : options(std::move(o)),
        handler(std::move(h)),
        log(std::move(l)),
        pipeline(std::move(p)),
        proxies(TrustedProxies::parse(options.trusted_proxies)) {
    const int n = options.io_threads > 0 ? options.io_threads
                                         : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
      iocs.push_back(std::make_unique<asio::io_context>(1));
      loops.push_back(std::make_unique<IoLoop>(*iocs.back()));
    }
    acceptor = std::make_unique<tcp::acceptor>(iocs[0]->get_executor());
    accept_retry = std::make_unique<asio::steady_timer>(iocs[0]->get_executor());
  }
  void do_accept();
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

using Response = bhttp::response<bhttp::string_body>;
using RequestHeader = bhttp::request_parser<bhttp::string_body>::value_type;

struct Refusal {
  bhttp::status status;
  std::string_view description;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9112 section 6.1 and 6.3: only a final `chunked` frames a request body. Any other Transfer-Encoding, or one
// together with Content-Length, leaves the body's length unknown (request smuggling): the request is refused and
// the connection closed (write_error never keeps it alive). Beast alone would frame such a body by Content-Length.
std::optional<Refusal> framing_refusal(const RequestHeader& req) {
  std::vector<std::string> codings;
  bool has_te = false;
  for (const auto& field : req) {
    if (field.name() != bhttp::field::transfer_encoding) continue;
    has_te = true;
    std::string_view rest = field.value();
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      if (!item.empty()) codings.push_back(lower(item));  // empty list elements are allowed (RFC 9110 5.6.1)
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  if (!has_te) return std::nullopt;
  if (req.version() < 11) return Refusal{bhttp::status::bad_request, "Transfer-Encoding requires HTTP/1.1."};
  if (req.find(bhttp::field::content_length) != req.end())
    return Refusal{bhttp::status::bad_request, "Transfer-Encoding and Content-Length together are not accepted."};
  if (codings.empty() || codings.back() != "chunked")
    return Refusal{bhttp::status::bad_request, "The final transfer coding must be chunked."};
  if (codings.size() > 1) {
    // A second `chunked` is malformed (RFC 9112 section 7); any other coding is one this server does not
    // implement (501, RFC 9112 section 6.1).
    if (std::count(codings.begin(), codings.end(), "chunked") > 1)
      return Refusal{bhttp::status::bad_request, "The chunked transfer coding is applied more than once."};
    return Refusal{bhttp::status::not_implemented, "Only the chunked transfer coding is supported."};
  }
  return std::nullopt;
}

bool expects_continue(const RequestHeader& req) {
  if (req.version() < 11) return false;  // HTTP/1.0 clients do not wait for it (RFC 9110 section 10.1.1)
  const auto it = req.find(bhttp::field::expect);
  return it != req.end() && lower(trim(it->value())) == "100-continue";
}

Response plain_error(unsigned version, bhttp::status status, std::string_view error, std::string_view description) {
  Response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  res.set(bhttp::field::pragma, "no-cache");
  res.body() = std::string(R"({"error":")") + std::string(error) + R"(","error_description":")" +
               std::string(description) + "\"}";
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

Response to_beast(core::Response out, unsigned version, bool keep_alive, bool head) {
  Response res{static_cast<bhttp::status>(out.status), version};
  res.set(bhttp::field::content_type, out.content_type);
  res.set("X-Content-Type-Options", "nosniff");
  for (auto& [name, value] : out.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(out.body);
  res.prepare_payload();
  if (head) res.body().clear();  // Content-Length stays that of the GET answer (RFC 9110 section 9.3.2)
  return res;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl& server, IoLoop& loop)
      : stream_(std::move(socket)), server_(server), loop_(loop) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Session() { server_.connections.fetch_sub(1); }

  // The client's address: the peer's, or from X-Forwarded-For when the peer is a trusted proxy. From anyone else
  // the forwarding headers are removed, so no handler can be fooled by them.
  std::string forwarded_client(core::Request& request) const {
    const bool trusted = server_.proxies.contains(remote_);
    std::vector<std::string_view> forwarded_for;
    if (trusted) {
      for (const auto& [k, v] : request.headers)
        if (k == "x-forwarded-for") forwarded_for.emplace_back(v);
      return server_.proxies.client_address(remote_, forwarded_for);
    }
    std::erase_if(request.headers, [](const auto& h) {
      return h.first == "x-forwarded-for" || h.first == "x-forwarded-proto" || h.first == "x-forwarded-host" ||
             h.first == "forwarded";
    });
    return remote_;
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options.limits.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.limits.header_limit));
    // A first request gets the request timeout; a kept-alive connection waits at most the idle timeout for the
    // next one. Either way the whole request must arrive in time, which stops slowloris (checklist A7).
    const int seconds =
        first_ ? server_.options.limits.request_timeout_seconds
               : std::max(server_.options.limits.request_timeout_seconds, server_.options.limits.idle_timeout_seconds);
    stream_.expires_after(std::chrono::seconds(seconds));
    // The header first: framing and `Expect` are decided before any of the body is read.
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    first_ = false;
    started_ = std::chrono::steady_clock::now();
    client_address_ = remote_;
    client_id_.clear();
    request_id_.clear();
    if (parser_->is_header_done()) {
      const auto& header = parser_->get();
      const std::string_view target = header.target();
      path_.assign(target.substr(0, target.find('?')));  // reuses the buffer: no allocation once warm
      method_.assign(header.method_string());
      // One acceptable id from the client is kept (a caller's trace goes on here); none, several or a bad one:
      // a new id.
      if (header.count("X-Request-Id") == 1) {
        const std::string_view id = header["X-Request-Id"];
        if (acceptable_request_id(id)) request_id_.assign(id);
      }
    } else {
      // Nothing usable was read (garbage, an oversized header): the observer sees an empty method and path.
      path_.clear();
      method_.clear();
    }

    if (ec) return on_read(ec);
    if (auto refusal = framing_refusal(parser_->get()))
      return write_error(refusal->status, "invalid_request", refusal->description);
    if (!parser_->is_done() && expects_continue(parser_->get())) {
      // RFC 9110 section 10.1.1: the client waits for this interim answer before it sends the body. A request
      // refused from its headers (above, or 413/431 from the parser) got its final status instead.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                          if (write_ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      return write_error(bhttp::status::payload_too_large, "invalid_request", "The request body is too large.");
    }
    if (ec == bhttp::error::header_limit) {
      return write_error(bhttp::status::request_header_fields_too_large, "invalid_request",
                         "The request header fields are too large.");
    }
    if (ec) return write_error(bhttp::status::bad_request, "invalid_request", "The request is not valid HTTP/1.1.");
    if (server_.draining.load()) keep_alive_allowed_ = false;

    auto req = parser_->release();
    core::Request request;
    request.method = std::string(req.method_string());
    const std::string_view target = req.target();
    const auto q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
    request.headers.reserve(16);
    for (const auto& field : req) request.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    request.body = std::move(req.body());
    request.remote_address = forwarded_client(request);
    client_address_ = request.remote_address;
    if (request_id_.empty()) request_id_ = new_request_id();
    std::erase_if(request.headers, [](const auto& h) { return h.first == "x-request-id"; });
    request.headers.emplace_back("x-request-id", request_id_);
    if (server_.pipeline.client_of) client_id_ = server_.pipeline.client_of(request);
    const bool keep_alive = req.keep_alive() && keep_alive_allowed_;
    const unsigned version = req.version();
    const bool head = req.method() == bhttp::verb::head;

    server_.in_flight.fetch_add(1);
    const Pipeline& pipeline = server_.pipeline;
    Placement placement = pipeline.place ? pipeline.place(request) : Placement::worker;
    if (placement == Placement::inline_deferred && !pipeline.gate) placement = Placement::worker;
    if (placement != Placement::worker && pipeline.prepare) {
      // The store reads ahead without this thread waiting; the request runs once the rows are in. Meanwhile the
      // loop holds this connection, and the store only a weak reference (it may outlive the io_context).
      struct Held {
        core::Request request;
        bool keep_alive;
        unsigned version;
        bool head;
      };
      auto held = std::make_shared<Held>(Held{std::move(request), keep_alive, version, head});
      loop_.park(shared_from_this());
      const bool started = pipeline.prepare(held->request, loop_, [weak = weak_from_this(), held, placement] {
        const auto self = weak.lock();
        if (!self) return;
        self->loop_.unpark(self.get());
        self->run(placement, std::move(held->request), held->keep_alive, held->version, held->head);
      });
      if (started) return;
      loop_.unpark(this);
      return run(placement, std::move(held->request), keep_alive, version, head);
    }
    run(placement, std::move(request), keep_alive, version, head);
  }

  void run(Placement placement, core::Request&& request, bool keep_alive, unsigned version, bool head) {
    const Pipeline& pipeline = server_.pipeline;
    // May wait on a commit: run on the worker pool, then come back to this connection's thread.
    if (placement == Placement::worker) return run_on_workers(std::move(request), keep_alive, version, head, false);
    if (placement == Placement::inline_read)
      return write(to_beast(server_.handler(request), version, keep_alive, head));
    // Once stop() began, a held answer may find its loop stopped before its batch is settled: run on the pool,
    // which stop() waits for.
    if (server_.draining.load()) return run_on_workers(std::move(request), keep_alive, version, head, false);
    // Deferred: the handler runs here and its writes join the open batch; the answer waits for that batch's
    // fsync without a thread waiting for it (a 200 never leaves before its commit).
    pipeline.gate->begin_deferred();
    core::Response out = server_.handler(request);
    const auto ticket = pipeline.gate->end_deferred();
    if (ticket.empty()) return write(to_beast(std::move(out), version, keep_alive, head));
    server_.awaiting_commit.fetch_add(1);
    using Settled = core::ports::CommitGate::Settled;
    pipeline.gate->when_settled(ticket, [self = shared_from_this(), out = std::move(out), request = std::move(request),
                                         keep_alive, version, head](Settled settled) mutable {
      auto& server = self->server_;
      if (settled == Settled::conflict) {
        // The store predicted a consuming write's outcome and another request won the row: this answer rests on a
        // state that did not hold. Run the request again on the pool, where writes return their real outcome.
        return self->run_on_workers(std::move(request), keep_alive, version, head, true);
      }
      if (settled != Settled::durable)
        out = server.pipeline.commit_failed
                  ? server.pipeline.commit_failed(request)
                  : core::Response{500, "application/json", {}, R"({"error":"server_error"})"};
      // The session moves into the posted handler: once the count drops, this callback holds nothing that
      // stop() could outlive.
      auto executor = self->stream_.get_executor();
      asio::post(executor,
                 [session = std::move(self), res = to_beast(std::move(out), version, keep_alive, head)]() mutable {
                   session->write(std::move(res));
                 });
      server.awaiting_commit.fetch_sub(1);
    });
  }

  /// Runs the handler on the worker pool and writes its answer on this connection's thread. `awaiting`: the request
  /// is counted in awaiting_commit, released once its answer is handed back (the session then lives only in the
  /// posted write, which stop() does not outlive).
  void run_on_workers(core::Request&& request, bool keep_alive, unsigned version, bool head, bool awaiting) {
    asio::post(*server_.workers, [self = shared_from_this(), request = std::move(request), keep_alive, version, head,
                                  awaiting]() mutable {
      auto& server = self->server_;
      Response res = to_beast(server.handler(request), version, keep_alive, head);
      auto executor = self->stream_.get_executor();
      asio::post(executor,
                 [session = std::move(self), res = std::move(res)]() mutable { session->write(std::move(res)); });
      if (awaiting) server.awaiting_commit.fetch_sub(1);
    });
  }

  void write_error(bhttp::status status, std::string_view error, std::string_view description) {
    // Refuse cheaply and close: the rest of the request is not worth reading (checklist A6).
    server_.in_flight.fetch_add(1);
    write(plain_error(11, status, error, description));
  }

  void write(Response res) {
    if (request_id_.empty()) request_id_ = new_request_id();  // refused before its header was read
    res.set("X-Request-Id", request_id_);
    if (server_.pipeline.observe) {
      Exchange exchange;
      exchange.method = method_;
      exchange.path = path_;
      exchange.status = res.result_int();
      exchange.body = res.body();
      exchange.body_bytes = res.body().size();
      exchange.micros =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
      exchange.request_id = request_id_;
      exchange.remote_address = client_address_;
      exchange.client_id = client_id_;
      exchange.location = res[bhttp::field::location];
      exchange.www_authenticate = res[bhttp::field::www_authenticate];
      server_.pipeline.observe(exchange);
    }
    response_ = std::make_shared<Response>(std::move(res));
    stream_.expires_after(std::chrono::seconds(server_.options.limits.request_timeout_seconds));
    bhttp::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->server_.in_flight.fetch_sub(1);
      const bool again = !ec && self->response_->keep_alive() && !self->server_.draining.load();
      self->response_.reset();
      if (again) return self->read();
      self->close();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  IoLoop& loop_;  // its thread's
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Response> response_;
  std::string remote_;
  std::string client_address_;  // remote_, or the client behind a trusted proxy
  std::string client_id_;
  std::string request_id_;
  std::string method_;
  std::string path_;
  std::chrono::steady_clock::time_point started_{};
  bool first_ = true;
  bool keep_alive_allowed_ = true;
};

}  // namespace

void HttpServer::Impl::do_accept() {
  const std::size_t index = next_ioc++ % iocs.size();
  acceptor->async_accept(iocs[index]->get_executor(), [this, index](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open() || draining.load()) return;
      // Out of descriptors (EMFILE) and the like: the connection stays in the backlog, so retrying at once would
      // spin. Back off briefly instead.
      if (log) log(std::string("accept: ") + ec.message());
      accept_retry->expires_after(std::chrono::milliseconds(100));
      accept_retry->async_wait([this](beast::error_code timer_ec) {
        if (!timer_ec && !draining.load()) do_accept();
      });
      return;
    } else if (connections.fetch_add(1) >= options.limits.max_connections) {
      connections.fetch_sub(1);  // over the cap: close at once rather than queue (checklist A7)
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this, *loops[index])->start();
    }
    if (!draining.load()) do_accept();
  });
}

HttpServer::HttpServer(ServerOptions options, Handler handler, Logger log, Pipeline pipeline)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(log), std::move(pipeline))) {}

HttpServer::~HttpServer() { stop(0); }

std::uint16_t HttpServer::listen() {
  auto& s = *impl_;
  if (s.listening) return s.acceptor->local_endpoint().port();
  beast::error_code ec;
  // `localhost` is the loopback address (IPv4, as most clients try first); any other name must be an address.
  const auto address = asio::ip::make_address(s.options.host == "localhost" ? "127.0.0.1" : s.options.host, ec);
  if (ec)
    throw std::runtime_error("bad listen address: " + s.options.host +
                             " (an IPv4 or IPv6 address, or localhost; e.g. 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)");
  tcp::endpoint endpoint{address, s.options.port};
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + ": " +
                             ec.message());
  s.listening = true;
  return s.acceptor->local_endpoint().port();
}

std::uint16_t HttpServer::start() {
  auto& s = *impl_;
  const auto port = listen();
  // Token requests run on the I/O threads and never wait on a commit there; the workers only take requests
  // that write synchronously (account, sandbox, endpoints not yet placed), so a modest pool suffices.
  int workers = s.options.worker_threads > 0 ? s.options.worker_threads : 16;
  // The connection cap must engage before the descriptor limit does, or accept() fails instead of the cap.
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const auto reserve = static_cast<rlim_t>(64 + workers);
    const auto usable = limit.rlim_cur > reserve ? static_cast<std::size_t>(limit.rlim_cur - reserve) : 16;
    if (s.options.limits.max_connections > usable) {
      if (s.log) s.log("max_connections lowered to " + std::to_string(usable) + " by the open-file limit (ulimit -n)");
      s.options.limits.max_connections = usable;
    }
  }
  s.workers = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(workers));
  for (auto& ioc : s.iocs) s.work.push_back(asio::make_work_guard(*ioc));
  s.do_accept();
  for (auto& ioc : s.iocs) s.threads.emplace_back([&ioc = *ioc] { ioc.run(); });
  return port;
}

void HttpServer::stop(int drain_seconds) {
  auto& s = *impl_;
  std::lock_guard lock(s.stop_mutex);
  if (s.stopped.exchange(true)) return;
  s.draining.store(true);
  asio::post(s.acceptor->get_executor(), [&s] {
    beast::error_code ec;
    s.acceptor->close(ec);
    s.accept_retry->cancel();
  });
  // Let requests already read finish and be written (SIGTERM drains, it does not cut).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(drain_seconds);
  while (s.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // A held answer's callback posts to its connection's io_context: wait until none is pending (the committer
  // settles every batch within one fsync or so), whatever the drain time.
  const auto commit_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (s.awaiting_commit.load() > 0 && std::chrono::steady_clock::now() < commit_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s.work.clear();
  for (auto& ioc : s.iocs) ioc->stop();
  for (auto& t : s.threads)
    if (t.joinable()) t.join();
  s.threads.clear();
  if (s.workers) s.workers->join();
  // A request read on a keep-alive connection between the wait above and ioc->stop() may have registered a
  // held answer since: its callback runs on the committer and posts to an io_context, which must outlive it.
  // Posting to a stopped io_context is harmless; destroying it first is not.
  while (s.awaiting_commit.load() > 0 && std::chrono::steady_clock::now() < commit_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    std::lock_guard wait_lock(s.wait_mutex);
    s.wake_waiter = true;
  }
  s.wait_cv.notify_all();
}

std::size_t HttpServer::active_connections() const noexcept { return impl_->connections.load(); }

void HttpServer::run_until_signal(const std::function<void()>& on_stopping) {
  auto& s = *impl_;
  asio::signal_set signals(*s.iocs[0], SIGTERM, SIGINT);
  signals.async_wait([&s](beast::error_code ec, int) {
    if (ec) return;
    {
      std::lock_guard lock(s.wait_mutex);
      s.wake_waiter = true;
    }
    s.wait_cv.notify_all();
  });
  // The caller may have blocked these until now so that none arrives before the handler above exists; a
  // pending one is delivered here, to this thread, and handled like any later one.
  sigset_t stop_signals;
  ::sigemptyset(&stop_signals);
  ::sigaddset(&stop_signals, SIGTERM);
  ::sigaddset(&stop_signals, SIGINT);
  ::pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  {
    std::unique_lock lock(s.wait_mutex);
    s.wait_cv.wait(lock, [&s] { return s.wake_waiter; });
  }
  if (on_stopping) on_stopping();
  stop();
}

}  // namespace boltauth::http
