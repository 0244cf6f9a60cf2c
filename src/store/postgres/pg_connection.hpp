#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/ports/storage_error.hpp"

// Forward declarations keep libpq-fe.h out of everything that only wires the stores together.
struct pg_conn;
struct pg_result;

namespace boltauth::store::postgres {

/// A failure reported by PostgreSQL (or libpq), classified by SQLSTATE. The message names the SQLSTATE and the
/// server's message, never the password. Transient (503 upstream) when trying again later may succeed: the
/// connection broke (class 08, 57P01-57P03), serialization failure or deadlock (40001, 40P01), lock or statement
/// timeout, too many connections.
class PgError : public core::ports::StorageError {
 public:
  PgError(const std::string& what, std::string sqlstate, bool transient, bool connection_lost)
      : StorageError(what, transient), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  /// Five characters, or empty when libpq failed without a server answer.
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// 40001 serialization_failure or 40P01 deadlock_detected: the transaction was rolled back and may be rerun.
  bool retryable() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  /// 23505: the caller decides what a duplicate means.
  bool unique_violation() const noexcept { return sqlstate_ == "23505"; }
  /// The connection is unusable from now on (PgDatabase replaces it).
  bool connection_lost() const noexcept { return connection_lost_; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

/// One statement, parsed once per connection: define it once (as a static) and run it with PgConnection::run.
/// Each gets a small process-wide number, so a connection finds out whether it already prepared the statement by
/// indexing a vector, without hashing the SQL.
class PgStatement {
 public:
  explicit PgStatement(std::string sql);
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;
  const std::string& sql() const noexcept { return sql_; }
  const std::string& name() const noexcept { return name_; }
  std::size_t index() const noexcept { return index_; }

 private:
  std::string sql_;
  std::string name_;
  std::size_t index_;
};

/// One parameter ($1, $2, ...). Strings go in binary format (their bytes and length: no copy, no terminator
/// needed, and the server reads them as the text or bytea the statement expects); integers and booleans as text
/// kept inside the parameter. Holds a view of a string argument, which must outlive the call: it does when the
/// parameters are written inline in the call.
class PgParam {
 public:
  PgParam(std::nullptr_t) noexcept {}  // NOLINT
  PgParam(std::string_view text) noexcept
      : data_(text.data()), size_(text.size()), null_(false), binary_(true) {}        // NOLINT
  PgParam(const std::string& text) noexcept : PgParam(std::string_view(text)) {}      // NOLINT
  PgParam(const char* text) noexcept : PgParam(std::string_view(text)) {}             // NOLINT
  PgParam(bool value) noexcept : data_(value ? "t" : "f"), size_(1), null_(false) {}  // NOLINT
  template <std::integral T>
  requires(!std::same_as<T, bool>) PgParam(T value)
  noexcept {  // NOLINT
    set_integer(static_cast<std::int64_t>(value));
  }
  PgParam(const std::optional<std::int64_t>& value) noexcept {  // NOLINT
    if (value) set_integer(*value);
  }
  PgParam(const std::optional<std::string>& value) noexcept {  // NOLINT
    if (value) *this = PgParam(std::string_view(*value));
  }
  /// Binary data for a bytea parameter.
  static PgParam bytes(std::string_view binary) noexcept { return PgParam(binary); }

  /// NULL for SQL NULL; text parameters are NUL-terminated.
  const char* data() const noexcept { return null_ ? nullptr : inline_ ? buffer_ : data_; }
  int size() const noexcept { return static_cast<int>(size_); }
  bool binary() const noexcept { return binary_; }
  /// True when a copy owns its value (NULL or an integer): it may outlive what it was made from.
  bool self_contained() const noexcept { return null_ || inline_; }

 private:
  void set_integer(std::int64_t value) noexcept;

  const char* data_ = nullptr;
  std::size_t size_ = 0;
  bool null_ = true;
  bool binary_ = false;
  bool inline_ = false;  // the value is in buffer_ (an integer's digits), so copies stay valid
  char buffer_[24] = {};
};

/// A statement's answer: rows of text values (libpq's text format). Move-only; frees the libpq result.
class PgResult {
 public:
  explicit PgResult(pg_result* result) noexcept : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const noexcept;
  int columns() const noexcept;
  /// The command tag ("COMMIT", "UPDATE 1", ...).
  std::string_view command() const noexcept;
  /// Rows an INSERT, UPDATE or DELETE changed (PQcmdTuples); 0 for other statements.
  std::int64_t affected() const noexcept;

  // Rows and columns are 0-based. A NULL read by a non-optional accessor is a (permanent) StorageError.
  bool is_null(int row, int column) const noexcept;
  std::string_view text_view(int row, int column) const;
  std::string text(int row, int column) const { return std::string(text_view(row, column)); }
  std::int64_t int64(int row, int column) const;
  bool boolean(int row, int column) const;
  /// A bytea column (hex text format) decoded to its bytes.
  std::string bytea(int row, int column) const;
  std::optional<std::int64_t> optional_int64(int row, int column) const;
  std::optional<std::string> optional_text(int row, int column) const;

 private:
  const char* value(int row, int column) const;
  pg_result* result_;
};

/// One statement of PgConnection::run_batch and its parameters (views that must outlive the call).
struct PgBatchItem {
  const PgStatement* statement = nullptr;
  std::span<const PgParam> params;
};

/// Connection settings for PgConnection::open.
struct PgConnectOptions {
  std::string url;  // libpq URI or key=value string
  int connect_timeout_seconds = 5;
  int statement_timeout_ms = 10000;
  /// How long a blocking call waits for the server's answer before it gives the connection up (a transient,
  /// connection-lost PgError). statement_timeout ends a statement that runs long, but only a server that runs: one
  /// whose disk stalled, or whose processes are stopped, never answers, while its kernel keeps the TCP connection
  /// alive. 0: wait as long as it takes (migrations).
  int answer_timeout_ms = 15000;
  std::string application_name = "boltauth";  // the URL's own application_name wins
};

/// One libpq connection and its prepared statements. Used by one thread at a time (PgDatabase leases it out).
/// Every failure throws PgError; after one with connection_lost() the connection must be dropped.
class PgConnection {
 public:
  /// Connects, then sets synchronous_commit = on and statement_timeout for the session. Throws a transient PgError
  /// (the server may come back) whose message names host, port, database and user, never the password.
  static std::unique_ptr<PgConnection> open(const PgConnectOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs `statement` with `params`: prepared on this connection on first use (one round trip), then executed by
  /// name (one round trip).
  PgResult run(const PgStatement& statement, std::initializer_list<PgParam> params = {}) {
    return run(statement, std::span<const PgParam>(params.begin(), params.size()));
  }
  PgResult run(const PgStatement& statement, std::span<const PgParam> params);
  /// Runs `items` in one transaction and one round trip (libpq pipeline mode: each statement, then one Sync, which
  /// commits them as one implicit transaction) and returns the rows each changed. All or nothing: when any
  /// statement or the commit fails, nothing of the transaction is kept and the first failure is thrown. Must be
  /// called outside a transaction.
  std::vector<std::int64_t> run_batch(std::span<const PgBatchItem> items);
  /// Runs SQL text without preparing it; several statements separated by `;` when there are no parameters
  /// (migrations, session settings).
  PgResult exec(std::string_view sql, std::initializer_list<PgParam> params = {});

  /// Round trips of every connection of this process so far, other than preparing a statement (once per connection
  /// and statement): run, run_batch and exec count one each. Tests count what a request costs with it.
  static std::uint64_t executions() noexcept;

  /// False once a failure showed the connection unusable.
  bool usable() const noexcept { return !broken_; }
  /// Cheap liveness check without a round trip: reads whatever the server sent while the connection sat idle
  /// (a restart's termination notice, an EOF). False when the connection is gone.
  bool alive() noexcept;
  /// True while a transaction is open (or failed and not yet rolled back).
  bool in_transaction() const noexcept;
  /// ROLLBACK when a transaction is open, ignoring errors (a broken connection is dropped anyway).
  void rollback_quietly() noexcept;

  // Reads without waiting (PgReadAhead::prefetch_async): libpq's pipeline mode on a non-blocking connection, one
  // Sync per statement, so a failure ends only its own statement; answers come back in the order sent.

  /// Prepares `statements` (a round trip each) and switches to non-blocking pipeline mode: from then on only the
  /// calls below are used on this connection.
  void enter_async(std::initializer_list<const PgStatement*> statements);
  /// The descriptor to wait on.
  int socket() const noexcept;
  /// Queues `statement` with `params` and a Sync. Throws PgError (connection lost) when libpq refuses.
  void send(const PgStatement& statement, std::span<const PgParam> params);
  /// Sends what is queued: true once everything is out, false when the rest waits for the socket to be writable.
  bool flush();
  /// Takes in what the server sent. Throws PgError when the connection is gone.
  void consume();
  /// The next statement's answer (its rows, or the PgError it failed with) once its Sync is in; nullopt until then.
  /// Throws PgError when the connection is gone.
  std::optional<std::variant<PgResult, PgError>> next_answer();

  // Batches without waiting (PgDatabase's committer on an event loop's thread), on a connection in async mode that
  // carries nothing else: the statements of a batch and one Sync (one implicit transaction, as run_batch), the
  // answers read as they come.

  /// Queues `items` and one Sync. A statement not yet prepared on this connection is prepared in the same pipeline,
  /// ahead of the batch. Throws PgError (connection lost) when libpq refuses.
  void send_batch(std::span<const PgBatchItem> items);
  /// The oldest batch's outcome once its Sync is in: the rows each statement changed, or the first failure (nothing
  /// of the batch was kept); nullopt until then. Throws PgError when the connection is gone or when the outcome is
  /// unknown (the commit itself failed, or the answers do not match what was sent).
  std::optional<std::variant<std::vector<std::int64_t>, PgError>> next_batch_answer();

  /// PgConnectOptions::answer_timeout_ms of this connection (0: none).
  int answer_timeout_ms() const noexcept { return answer_timeout_ms_; }
  /// Names the server in messages: "host:port/dbname as user".
  const std::string& describe() const noexcept { return describe_; }

 private:
  PgConnection(pg_conn* conn, std::string describe, std::string password);
  [[noreturn]] void fail(pg_result* result, std::string_view context);
  /// The PgError fail() throws (and frees `result`); marks the connection broken when it is lost.
  PgError error_of(pg_result* result, std::string_view context);
  void prepare(const PgStatement& statement);
  PgResult check(pg_result* result, std::string_view context);
  /// Returns once PQgetResult will not block; throws lost() when no answer came within answer_timeout_ms_.
  void wait_for_answer();
  /// What PQexec would return for a query just sent (`sent`: its PQsend* call succeeded), waiting at most
  /// answer_timeout_ms_ for each part of the answer: the last result, or null when nothing could be sent.
  pg_result* answer_of(bool sent);
  /// Marks the connection broken and returns the error naming what failed (libpq's message).
  PgError lost(std::string_view what);
  /// One statement's result in a batch (freed here): its row count into `affected`, nothing for a statement skipped
  /// after a failure, the first failure into `failure`. Throws the error when it lost the connection.
  void take_batch_result(pg_result* result, std::int64_t& affected, std::optional<PgError>& failure);

  pg_conn* conn_;
  std::string describe_;
  std::string password_;        // only to scrub it from messages
  std::vector<char> prepared_;  // by PgStatement::index()
  bool broken_ = false;
  int answer_timeout_ms_ = 0;
  std::optional<std::variant<PgResult, PgError>> answer_;  // of the statement whose Sync is still to come
  /// A batch sent by send_batch whose Sync is not in yet, and what came back for it so far.
  struct SentBatch {
    std::size_t prepares = 0;  // results of the prepares ahead of the statements
    std::size_t statements = 0;
    std::size_t seen = 0;  // results read (prepares first)
    bool open = false;     // a result was read and the null that ends it is still to come
    std::vector<std::int64_t> affected;
    std::optional<PgError> failure;
  };
  std::deque<SentBatch> batches_;
};

/// `url` with its password (URI userinfo or a password parameter) replaced by "***".
std::string redact_url(std::string_view url);

}  // namespace boltauth::store::postgres
