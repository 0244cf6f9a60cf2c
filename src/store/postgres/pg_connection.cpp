#include "store/postgres/pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <stdexcept>

namespace boltauth::store::postgres {
namespace {

// Enough for every statement of the stores (a grant row has 19 columns); checked, not assumed.
constexpr std::size_t kMaxParams = 32;

/// Parameters as libpq takes them: values, lengths and formats side by side.
struct WireParams {
  explicit WireParams(std::span<const PgParam> params) noexcept {
    for (const PgParam& p : params) {
      values[count] = p.data();
      lengths[count] = p.size();
      formats[count] = p.binary() ? 1 : 0;
      ++count;
    }
  }
  std::array<const char*, kMaxParams> values{};
  std::array<int, kMaxParams> lengths{};
  std::array<int, kMaxParams> formats{};
  int count = 0;
};

std::atomic<std::size_t> next_statement_index{0};
std::atomic<std::uint64_t> execution_count{0};

void ignore_notice(void*, const char*) {}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/// What a URL names, for messages: host, port, database, user, and the password only to scrub it.
struct Target {
  std::string describe;
  std::string password;
};

Target parse_target(const std::string& url) {
  Target target;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    target.describe = redact_url(url);
    return target;
  }
  std::string host, port, dbname, user;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && host.empty())) host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
    if (key == "user") user = o->val;
    if (key == "password") target.password = o->val;
  }
  PQconninfoFree(options);
  target.describe = (host.empty() ? "localhost" : host) + ":" + (port.empty() ? "5432" : port) + "/" +
                    (dbname.empty() ? user : dbname) + (user.empty() ? "" : " as " + user);
  return target;
}

/// Removes the password from a message (a malformed URL may be echoed by libpq).
std::string scrub(std::string message, const std::string& password) {
  // Very short passwords would mangle unrelated words; libpq's own messages never contain the password anyway.
  if (password.size() >= 4) replace_all(message, password, "***");
  return message;
}

std::int64_t parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw core::ports::StorageError("postgres: not an integer: \"" + std::string(text.substr(0, 32)) + "\"", false);
  return value;
}

}  // namespace

// --- PgStatement, PgParam ----------------------------------------------------------------------------------------

PgStatement::PgStatement(std::string sql)
    : sql_(std::move(sql)), index_(next_statement_index.fetch_add(1, std::memory_order_relaxed)) {
  name_ = "boltauth_" + std::to_string(index_);
}

void PgParam::set_integer(std::int64_t value) noexcept {
  const auto [end, ec] = std::to_chars(buffer_, buffer_ + sizeof(buffer_) - 1, value);
  (void)ec;  // 20 characters at most: always fits
  *end = '\0';
  size_ = static_cast<std::size_t>(end - buffer_);
  null_ = false;
  binary_ = false;
  inline_ = true;
}

// --- PgResult ----------------------------------------------------------------------------------------------------

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const noexcept { return result_ == nullptr ? 0 : PQntuples(result_); }
int PgResult::columns() const noexcept { return result_ == nullptr ? 0 : PQnfields(result_); }

std::string_view PgResult::command() const noexcept {
  return result_ == nullptr ? std::string_view() : std::string_view(PQcmdStatus(result_));
}

std::int64_t PgResult::affected() const noexcept {
  if (result_ == nullptr) return 0;
  const std::string_view text = PQcmdTuples(result_);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool PgResult::is_null(int row, int column) const noexcept { return PQgetisnull(result_, row, column) != 0; }

const char* PgResult::value(int row, int column) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns())
    throw core::ports::StorageError(
        "postgres: no value at row " + std::to_string(row) + ", column " + std::to_string(column), false);
  if (is_null(row, column))
    throw core::ports::StorageError("postgres: unexpected NULL in column " + std::to_string(column), false);
  return PQgetvalue(result_, row, column);
}

std::string_view PgResult::text_view(int row, int column) const {
  const char* v = value(row, column);
  return {v, static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

std::int64_t PgResult::int64(int row, int column) const { return parse_int(text_view(row, column)); }

bool PgResult::boolean(int row, int column) const {
  const std::string_view v = text_view(row, column);
  if (v == "t") return true;
  if (v == "f") return false;
  throw core::ports::StorageError("postgres: not a boolean: \"" + std::string(v.substr(0, 8)) + "\"", false);
}

std::string PgResult::bytea(int row, int column) const {
  std::size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(value(row, column)), &length);
  if (bytes == nullptr) throw core::ports::StorageError("postgres: cannot decode a bytea value", false);
  std::string out(reinterpret_cast<const char*>(bytes), length);
  PQfreemem(bytes);
  return out;
}

std::optional<std::int64_t> PgResult::optional_int64(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return int64(row, column);
}

std::optional<std::string> PgResult::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

// --- PgConnection ------------------------------------------------------------------------------------------------

std::unique_ptr<PgConnection> PgConnection::open(const PgConnectOptions& options) {
  const Target target = parse_target(options.url);
  const std::string timeout = std::to_string(options.connect_timeout_seconds);
  // Parameters are applied in order, the last one winning: application_name and the TCP liveness settings before
  // the URL (which may name its own), connect_timeout and client_encoding after it (the configured timeout is the
  // one in force; the stores read and write UTF-8).
  //
  // TCP liveness: a database host that vanishes without closing its connections (power loss, a partition, the
  // old primary of a failover) would otherwise leave every request waiting on it until the kernel gives up on
  // retransmitting, about 15 minutes. Keepalive probes from the 5th second of silence, 2 s apart, and a 10 s
  // limit on unacknowledged data (tcp_user_timeout, which also ends a connection whose probes go unanswered)
  // turn that into a lost connection, so a transient error (503) within about 11 s. A live server answers probes
  // from its kernel, so a long statement is not cut short. Ignored on a Unix socket.
  const std::array<const char*, 9> keywords = {"application_name", "keepalives_idle",  "keepalives_interval",
                                               "keepalives_count", "tcp_user_timeout", "dbname",
                                               "connect_timeout",  "client_encoding",  nullptr};
  const std::array<const char*, 9> values = {
      options.application_name.c_str(), "5", "2", "3", "10000", options.url.c_str(), timeout.c_str(), "UTF8", nullptr};
  pg_conn* conn = PQconnectdbParams(keywords.data(), values.data(), 1);
  if (conn == nullptr) throw PgError("postgres: out of memory connecting to " + target.describe, "", true, true);
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = scrub(trim(PQerrorMessage(conn)), target.password);
    PQfinish(conn);
    throw PgError("postgres: cannot connect to " + target.describe + ": " + message, "", true, true);
  }
  PQsetNoticeProcessor(conn, ignore_notice, nullptr);
  auto connection = std::unique_ptr<PgConnection>(new PgConnection(conn, target.describe, target.password));
  connection->answer_timeout_ms_ = options.answer_timeout_ms;
  // Session settings, in one round trip: a write returns only after its commit is flushed, whatever the server's
  // default; no statement runs longer than configured (a stuck lock becomes a transient error, not a hang); and
  // prepared statements keep one generic plan. Every statement here is a lookup by key (or a bounded scan) whose
  // best plan does not depend on the values; with the default, a key that is NULL or a flag that is false makes the
  // custom plans look cheaper than the generic one, and PostgreSQL then plans the statement again at every
  // execution (the read-ahead's six-table join: most of the backends' CPU per request, measured with perf).
  //
  // The last statement keeps the backend's heap: glibc gives the top of a heap back to the kernel once more than
  // its trim threshold (128 kB) is free, and the next allocation takes it again (brk, a TLB flush on every CPU the
  // process ran on, fresh page faults). Every B-tree scan a statement opens allocates about 27 kB of scan state, so
  // the read-ahead's joins can cross that line at each execution, depending on how the backend's heap lies: under
  // load, one brk per refresh and a sixth of the machine's CPU (perf). glibc raises the threshold to twice the size
  // of any mmap()ed block the process frees, so making and dropping one 1 MiB value leaves the backend keeping up to
  // 2 MiB of free heap from then on; other allocators just compute a length.
  connection->exec("SET synchronous_commit = on; SET plan_cache_mode = force_generic_plan; SET statement_timeout = " +
                   std::to_string(options.statement_timeout_ms) + "; SELECT length(repeat('x', 1048576))");
  return connection;
}

PgConnection::PgConnection(pg_conn* conn, std::string describe, std::string password)
    : conn_(conn), describe_(std::move(describe)), password_(std::move(password)) {}

PgConnection::~PgConnection() { PQfinish(conn_); }

PgResult PgConnection::check(pg_result* result, std::string_view context) {
  const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
  fail(result, context);
}

void PgConnection::fail(pg_result* result, std::string_view context) { throw error_of(result, context); }

PgError PgConnection::error_of(pg_result* result, std::string_view context) {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state == nullptr ? "" : state;
  const char* primary = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = trim(primary != nullptr ? primary : PQerrorMessage(conn_));
  if (result != nullptr) PQclear(result);
  if (message.empty()) message = "no answer from the server";

  // Class 08 (connection exception) and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now) end the
  // session; so does anything libpq reports without an SQLSTATE on a connection it found closed. 25006: the
  // server became a read-only standby (failover); a new connection finds the primary.
  const bool lost = PQstatus(conn_) == CONNECTION_BAD || sqlstate.starts_with("08") || sqlstate == "57P01" ||
                    sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "25006";
  if (lost) broken_ = true;
  // Worth trying again later: the above, serialization failures and deadlocks, lock and statement timeouts
  // (55P03, 57014), too many connections (53300).
  const bool transient = lost || sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" ||
                         sqlstate == "57014" || sqlstate == "53300";
  std::string what = "postgres: " + std::string(context) + " on " + describe_ + " failed";
  if (!sqlstate.empty()) what += ": SQLSTATE " + sqlstate;
  what += ": " + message;
  return PgError(scrub(std::move(what), password_), sqlstate, transient, lost);
}

void PgConnection::prepare(const PgStatement& statement) {
  const std::size_t index = statement.index();
  if (index >= prepared_.size()) prepared_.resize(index + 1, 0);
  if (prepared_[index] != 0) return;
  // Parameter types are inferred from where each $n appears.
  check(answer_of(PQsendPrepare(conn_, statement.name().c_str(), statement.sql().c_str(), 0, nullptr) == 1), "prepare");
  prepared_[index] = 1;
}

PgResult PgConnection::run(const PgStatement& statement, std::span<const PgParam> params) {
  if (params.size() > kMaxParams) throw std::logic_error("postgres: too many parameters for " + statement.name());
  if (broken_) throw PgError("postgres: connection to " + describe_ + " was lost", "", true, true);
  prepare(statement);
  const WireParams w(params);
  execution_count.fetch_add(1, std::memory_order_relaxed);
  return check(answer_of(PQsendQueryPrepared(conn_, statement.name().c_str(), w.count, w.values.data(),
                                             w.lengths.data(), w.formats.data(), 0) == 1),
               statement.sql().substr(0, statement.sql().find(' ')));
}

std::vector<std::int64_t> PgConnection::run_batch(std::span<const PgBatchItem> items) {
  if (broken_) throw PgError("postgres: connection to " + describe_ + " was lost", "", true, true);
  for (const PgBatchItem& item : items) {
    if (item.params.size() > kMaxParams)
      throw std::logic_error("postgres: too many parameters for " + item.statement->name());
    prepare(*item.statement);  // before the pipeline: a prepare is a round trip of its own, once per connection
  }
  if (PQenterPipelineMode(conn_) != 1) throw lost("entering pipeline mode");
  execution_count.fetch_add(1, std::memory_order_relaxed);
  // Queue everything, then one Sync: the whole batch goes out in one write and comes back in one answer. The
  // statements up to a Sync run as one implicit transaction, committed when the server reaches the Sync, before
  // it answers it; an error skips the rest and rolls it all back (protocol, "Pipelining"). So no BEGIN or COMMIT
  // is sent: two statements fewer per batch for the server to run.
  bool queued = true;
  for (const PgBatchItem& item : items) {
    if (!queued) break;
    const WireParams w(item.params);
    queued = PQsendQueryPrepared(conn_, item.statement->name().c_str(), w.count, w.values.data(), w.lengths.data(),
                                 w.formats.data(), 0) == 1;
  }
  queued = queued && PQpipelineSync(conn_) == 1;
  if (!queued) throw lost("sending a batch");

  // One result (then a null) per statement, then the Sync's. After a failure the server skips the rest up to the
  // Sync (PGRES_PIPELINE_ABORTED) and rolls the transaction back there.
  std::vector<std::int64_t> affected(items.size(), 0);
  std::optional<PgError> failure;
  for (std::size_t q = 0; q < items.size(); ++q) {
    wait_for_answer();
    pg_result* result = PQgetResult(conn_);
    if (result == nullptr) throw lost("reading a batch");
    take_batch_result(result, affected[q], failure);
    if (pg_result* end = PQgetResult(conn_); end != nullptr) {
      PQclear(end);
      throw lost("reading a batch (unexpected result)");
    }
  }
  wait_for_answer();
  pg_result* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr) PQclear(sync);
  // Anything but the Sync's answer here (an error raised by the commit itself) leaves the outcome unknown: handled
  // as a lost connection, so that every caller gets a transient failure and none a success.
  if (!synced || PQexitPipelineMode(conn_) != 1) throw lost("ending a batch");
  if (failure) throw std::move(*failure);  // the Sync already rolled the transaction back
  return affected;
}

std::uint64_t PgConnection::executions() noexcept { return execution_count.load(std::memory_order_relaxed); }

PgResult PgConnection::exec(std::string_view sql, std::initializer_list<PgParam> params) {
  if (params.size() > kMaxParams) throw std::logic_error("postgres: too many parameters");
  if (broken_) throw PgError("postgres: connection to " + describe_ + " was lost", "", true, true);
  const std::string text(sql);
  const std::string context(sql.substr(0, sql.find(' ')));
  execution_count.fetch_add(1, std::memory_order_relaxed);
  if (params.size() == 0) return check(answer_of(PQsendQuery(conn_, text.c_str()) == 1), context);
  const WireParams w(std::span<const PgParam>(params.begin(), params.size()));
  return check(answer_of(PQsendQueryParams(conn_, text.c_str(), w.count, nullptr, w.values.data(), w.lengths.data(),
                                           w.formats.data(), 0) == 1),
               context);
}

bool PgConnection::alive() noexcept {
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    return false;
  }
  // An idle connection has nothing to read unless the server is ending it (a restart sends a termination notice
  // and closes): one poll() in the common case.
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  if (::poll(&fd, 1, 0) == 0) return true;
  // Read the notice and, behind it, the EOF; libpq then reports the connection bad.
  for (int i = 0; i < 2; ++i) {
    if (PQconsumeInput(conn_) == 0) break;
    (void)PQisBusy(conn_);  // parses what arrived (an unsolicited error goes to the notice processor)
  }
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  return !broken_;
}

// --- reads without waiting ----------------------------------------------------------------------------------------

void PgConnection::wait_for_answer() {
  if (answer_timeout_ms_ <= 0) return;  // PQgetResult waits as long as it takes
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(answer_timeout_ms_);
  // PQisBusy parses what arrived; 0 once a whole result (or the end of the answer) is in.
  while (PQisBusy(conn_) == 1) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      broken_ = true;  // the answer may still come: the connection cannot be used for anything else
      throw PgError("postgres: no answer from " + describe_ + " within " + std::to_string(answer_timeout_ms_) +
                        " ms: giving the connection up",
                    "", true, true);
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) throw lost("waiting for an answer");
    if (ready > 0 && PQconsumeInput(conn_) == 0) throw lost("reading an answer");
  }
}

pg_result* PgConnection::answer_of(bool sent) {
  if (!sent) return nullptr;  // check() reports libpq's message, and a lost connection as such
  std::unique_ptr<pg_result, decltype(&PQclear)> last(nullptr, &PQclear);
  for (;;) {
    wait_for_answer();
    pg_result* result = PQgetResult(conn_);
    if (result == nullptr) break;
    last.reset(result);  // PQexec's rule: the last result (after an error the server runs nothing more)
    if (PQstatus(conn_) == CONNECTION_BAD) break;
  }
  return last.release();
}

PgError PgConnection::lost(std::string_view what) {
  broken_ = true;
  return PgError("postgres: " + std::string(what) + " on " + describe_ +
                     " failed: " + scrub(trim(PQerrorMessage(conn_)), password_),
                 "", true, true);
}

void PgConnection::enter_async(std::initializer_list<const PgStatement*> statements) {
  if (broken_) throw PgError("postgres: connection to " + describe_ + " was lost", "", true, true);
  for (const PgStatement* statement : statements) prepare(*statement);
  if (PQsetnonblocking(conn_, 1) != 0) throw lost("switching to non-blocking");
  if (PQenterPipelineMode(conn_) != 1) throw lost("entering pipeline mode");
}

int PgConnection::socket() const noexcept { return PQsocket(conn_); }

void PgConnection::send(const PgStatement& statement, std::span<const PgParam> params) {
  if (params.size() > kMaxParams) throw std::logic_error("postgres: too many parameters for " + statement.name());
  if (broken_) throw PgError("postgres: connection to " + describe_ + " was lost", "", true, true);
  const WireParams w(params);
  execution_count.fetch_add(1, std::memory_order_relaxed);
  // A Sync after each statement: a failure aborts only its own statement, never the ones queued behind it.
  if (PQsendQueryPrepared(conn_, statement.name().c_str(), w.count, w.values.data(), w.lengths.data(), w.formats.data(),
                          0) != 1 ||
      PQpipelineSync(conn_) != 1)
    throw lost("sending a read");
}

bool PgConnection::flush() {
  const int r = PQflush(conn_);
  if (r < 0) throw lost("sending a read");
  return r == 0;
}

void PgConnection::consume() {
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) throw lost("reading an answer");
}

std::optional<std::variant<PgResult, PgError>> PgConnection::next_answer() {
  // Per statement: its result (rows or an error), a null, then the Sync's PGRES_PIPELINE_SYNC.
  bool after_null = false;
  while (PQisBusy(conn_) == 0) {
    pg_result* result = PQgetResult(conn_);
    if (result == nullptr) {
      // The end of a statement's results; a second one in a row means nothing more is ready.
      if (!answer_ || after_null) return std::nullopt;
      after_null = true;
      continue;
    }
    after_null = false;
    switch (PQresultStatus(result)) {
      case PGRES_PIPELINE_SYNC: {
        PQclear(result);
        if (!answer_) answer_.emplace(PgError("postgres: a read on " + describe_ + " got no answer", "", true, false));
        auto out = std::move(answer_);
        answer_.reset();
        return out;
      }
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        answer_.emplace(PgResult(result));
        break;
      default: {
        PgError error = error_of(result, "read");  // frees it
        answer_.emplace(std::move(error));
        if (broken_) throw lost("reading an answer");
      }
    }
  }
  return std::nullopt;
}

void PgConnection::take_batch_result(pg_result* result, std::int64_t& affected, std::optional<PgError>& failure) {
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    const std::string_view text = PQcmdTuples(result);
    std::from_chars(text.data(), text.data() + text.size(), affected);
    PQclear(result);
  } else if (status == PGRES_PIPELINE_ABORTED) {
    PQclear(result);
  } else {
    PgError error = error_of(result, "batched statement");  // frees it
    if (broken_) throw error;
    if (!failure) failure.emplace(std::move(error));
  }
}

void PgConnection::send_batch(std::span<const PgBatchItem> items) {
  if (broken_) throw PgError("postgres: connection to " + describe_ + " was lost", "", true, true);
  SentBatch sent;
  sent.statements = items.size();
  sent.affected.assign(items.size(), 0);
  for (const PgBatchItem& item : items) {
    if (item.params.size() > kMaxParams)
      throw std::logic_error("postgres: too many parameters for " + item.statement->name());
    const std::size_t index = item.statement->index();
    if (index >= prepared_.size()) prepared_.resize(index + 1, 0);
    if (prepared_[index] != 0) continue;
    // Prepared in the pipeline, ahead of the batch: no round trip of its own. Counted as prepared from here on; a
    // failure of it fails the batch, and the caller drops the connection on any failure it cannot explain.
    if (PQsendPrepare(conn_, item.statement->name().c_str(), item.statement->sql().c_str(), 0, nullptr) != 1)
      throw lost("sending a batch");
    prepared_[index] = 1;
    ++sent.prepares;
  }
  execution_count.fetch_add(1, std::memory_order_relaxed);
  // As run_batch: no BEGIN or COMMIT; the statements up to the Sync are one implicit transaction.
  for (const PgBatchItem& item : items) {
    const WireParams w(item.params);
    if (PQsendQueryPrepared(conn_, item.statement->name().c_str(), w.count, w.values.data(), w.lengths.data(),
                            w.formats.data(), 0) != 1)
      throw lost("sending a batch");
  }
  if (PQpipelineSync(conn_) != 1) throw lost("sending a batch");
  batches_.push_back(std::move(sent));
}

std::optional<std::variant<std::vector<std::int64_t>, PgError>> PgConnection::next_batch_answer() {
  if (batches_.empty()) return std::nullopt;
  SentBatch& b = batches_.front();
  // Per prepare and per statement: one result, then a null; then the Sync's PGRES_PIPELINE_SYNC.
  while (PQisBusy(conn_) == 0) {
    pg_result* result = PQgetResult(conn_);
    if (result == nullptr) {
      if (!b.open) return std::nullopt;  // nothing more is ready
      b.open = false;
      ++b.seen;
      continue;
    }
    const ExecStatusType status = PQresultStatus(result);
    if (b.seen == b.prepares + b.statements) {
      PQclear(result);
      // Anything but the Sync's answer (an error raised by the commit itself) leaves the outcome unknown: as a
      // lost connection, so that no caller gets a success (as run_batch).
      if (status != PGRES_PIPELINE_SYNC) throw lost("ending a batch");
      std::optional<std::variant<std::vector<std::int64_t>, PgError>> out;
      if (b.failure)
        out.emplace(std::move(*b.failure));
      else
        out.emplace(std::move(b.affected));
      batches_.pop_front();
      return out;
    }
    if (b.open || status == PGRES_PIPELINE_SYNC) {
      PQclear(result);
      throw lost("reading a batch (unexpected result)");
    }
    b.open = true;
    std::int64_t prepared = 0;  // a prepare's result has no row count
    take_batch_result(result, b.seen >= b.prepares ? b.affected[b.seen - b.prepares] : prepared, b.failure);
  }
  return std::nullopt;
}

bool PgConnection::in_transaction() const noexcept { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

void PgConnection::rollback_quietly() noexcept {
  if (broken_ || PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
  try {
    pg_result* result = answer_of(PQsendQuery(conn_, "ROLLBACK") == 1);
    if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK) broken_ = true;
    if (result != nullptr) PQclear(result);
  } catch (const PgError&) {
    broken_ = true;
  }
}

// --- redact_url --------------------------------------------------------------------------------------------------

std::string redact_url(std::string_view url) {
  std::string out(url);
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    // URI: postgresql://user:password@host...; the userinfo ends at the last '@' before the path.
    const std::size_t start = scheme + 3;
    const std::size_t path = out.find_first_of("/?", start);
    const std::size_t at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a URI query parameter or in a key=value string (possibly quoted).
  for (std::size_t at = out.find("password="); at != std::string::npos; at = out.find("password=", at + 1)) {
    if (at > 0 && out[at - 1] != '?' && out[at - 1] != '&' && out[at - 1] != ' ') continue;
    const std::size_t value = at + 9;
    std::size_t end = value;
    if (end < out.size() && out[end] == '\'') {
      for (++end; end < out.size() && out[end] != '\''; ++end)
        if (out[end] == '\\') ++end;
      if (end < out.size()) ++end;
    } else {
      end = out.find_first_of(scheme != std::string::npos ? "&" : " ", value);
      if (end == std::string::npos) end = out.size();
    }
    out.replace(value, end - value, "***");
  }
  return out;
}

}  // namespace boltauth::store::postgres
