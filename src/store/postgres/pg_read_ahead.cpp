#include "store/postgres/pg_read_ahead.hpp"

#include <chrono>
#include <string>

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_rows.hpp"

namespace boltauth::store::postgres {
namespace {

using core::model::Account;
using core::model::Client;
using core::model::Grant;
using core::ports::FailureWindow;
using core::ports::GrantView;

/// What one prefetch read, per key; each part is answered once (`has_*` cleared when taken).
struct Slot {
  const PgDatabase* db = nullptr;
  std::chrono::steady_clock::time_point at;
  bool has_client = false;
  std::string client_id;
  std::optional<Client> client;
  bool has_failures = false;
  std::string throttle_key;
  std::optional<FailureWindow> failures;
  bool has_grant = false;
  std::int64_t grant_id = 0;
  std::uint64_t jti = 0;
  std::optional<GrantView> view;
  bool has_account = false;
  std::optional<Account> account;  // of view->grant.sub
  bool has_client_grant = false;
  std::optional<Grant> client_grant;  // of client_id

  void clear() noexcept {
    db = nullptr;
    has_client = has_failures = has_grant = has_account = has_client_grant = false;
  }
  bool answers(const PgDatabase& of) const noexcept {
    return db == &of && std::chrono::steady_clock::now() - at < std::chrono::seconds(1);
  }
};
thread_local Slot slot;

// One row whatever exists: each LEFT JOIN adds its row's columns, or NULLs when there is none (or no key: a NULL
// parameter matches nothing). Columns: client (kClientColumns) and failure window (2), then either the grant
// (kGrantColumns), whether the token is deny-listed (1) and the grant's account (kAccountColumns), or the client's
// client_credentials grant (kGrantColumns). One statement per shape, so that no execution pays for joins it does
// not need (PostgreSQL sets up every node of a plan at each execution).
constexpr int kFailuresAt = kClientColumns;
constexpr int kGrantAt = kFailuresAt + 2;
constexpr int kDeniedAt = kGrantAt + kGrantColumns;
constexpr int kAccountAt = kDeniedAt + 1;
constexpr int kClientGrantAt = kGrantAt;
const std::string client_part = "SELECT " + qualified(client_columns, "c") + ", f.window_start, f.failures";
const std::string client_from =
    " FROM (SELECT 1) AS one LEFT JOIN clients c ON c.id = $1::text LEFT JOIN auth_failures f ON f.key = $2::text";
const PgStatement client_sql(client_part + client_from);
const PgStatement grant_sql(
    client_part + ", g.id, " + qualified(grant_columns, "g") +
    ", EXISTS (SELECT 1 FROM denied_tokens d WHERE d.grant_id = g.id AND d.jti = $4::bigint), " +
    qualified(account_columns, "a") + client_from +
    " LEFT JOIN grants g ON g.id = $3::bigint LEFT JOIN accounts a ON a.sub = g.sub");
// `kind = 1` lets the planner use the partial unique index grants_client_credentials.
const PgStatement client_grant_sql(client_part + ", cg.id, " + qualified(grant_columns, "cg") + client_from +
                                   " LEFT JOIN grants cg ON cg.client_id = $1::text AND cg.kind = 1");

}  // namespace

void PgReadAhead::prefetch(const core::ports::ReadAheadKeys& keys) {
  slot.clear();
  const std::optional<std::string> client_id =
      keys.client_id.empty() ? std::nullopt : std::optional<std::string>(keys.client_id);
  const std::optional<std::string> throttle_key =
      keys.throttle_key.empty() ? std::nullopt : std::optional<std::string>(keys.throttle_key);
  const std::optional<std::int64_t> jti =
      keys.grant_id ? std::optional<std::int64_t>(common::encode_jti(keys.jti)) : std::nullopt;
  db_.run([&](PgConnection& c) {
    const bool client_grant = keys.client_grant && client_id;
    const PgResult r = client_grant    ? c.run(client_grant_sql, {client_id, throttle_key})
                       : keys.grant_id ? c.run(grant_sql, {client_id, throttle_key, keys.grant_id, jti})
                                       : c.run(client_sql, {client_id, throttle_key});
    if (r.rows() != 1) throw core::ports::StorageError("postgres: read-ahead answered no row", false);
    if (client_id) {
      slot.has_client = true;
      slot.client_id = *client_id;
      slot.client = r.is_null(0, 0) ? std::nullopt : std::optional<Client>(read_client(r, 0, 0));
    }
    if (throttle_key) {
      slot.has_failures = true;
      slot.throttle_key = *throttle_key;
      slot.failures =
          r.is_null(0, kFailuresAt)
              ? std::nullopt
              : std::optional<FailureWindow>(FailureWindow{r.int64(0, kFailuresAt), r.int64(0, kFailuresAt + 1)});
    }
    if (keys.grant_id && !client_grant) {
      slot.has_grant = true;
      slot.grant_id = *keys.grant_id;
      slot.jti = keys.jti;
      slot.view.reset();
      if (!r.is_null(0, kGrantAt)) {
        GrantView view;
        view.grant = read_grant(r, 0, kGrantAt);
        view.denied = r.boolean(0, kDeniedAt);
        view.account_exists = !r.is_null(0, kAccountAt);
        if (view.account_exists) {
          slot.has_account = true;
          slot.account = read_account(r, 0, kAccountAt);
          view.account_deactivate_at = slot.account->deactivate_at;
        }
        slot.view = std::move(view);
      }
    }
    if (client_grant) {
      slot.has_client_grant = true;
      slot.client_grant =
          r.is_null(0, kClientGrantAt) ? std::nullopt : std::optional<Grant>(read_grant(r, 0, kClientGrantAt));
    }
  });
  slot.db = &db_;
  slot.at = std::chrono::steady_clock::now();
}

void PgReadAhead::forget() noexcept { slot.clear(); }

std::optional<std::optional<Client>> PgReadAhead::take_client(const PgDatabase& db, std::string_view id) {
  if (!slot.has_client || !slot.answers(db) || slot.client_id != id) return std::nullopt;
  slot.has_client = false;
  return std::move(slot.client);
}

std::optional<std::optional<FailureWindow>> PgReadAhead::take_failures(const PgDatabase& db, std::string_view key) {
  if (!slot.has_failures || !slot.answers(db) || slot.throttle_key != key) return std::nullopt;
  slot.has_failures = false;
  return slot.failures;
}

std::optional<std::optional<GrantView>> PgReadAhead::take_grant_view(const PgDatabase& db, std::int64_t id,
                                                                     std::uint64_t jti) {
  if (!slot.has_grant || !slot.answers(db) || slot.grant_id != id || slot.jti != jti) return std::nullopt;
  slot.has_grant = false;
  return slot.view;
}

std::optional<std::optional<Grant>> PgReadAhead::take_grant(const PgDatabase& db, std::int64_t id) {
  if (!slot.has_grant || !slot.answers(db) || slot.grant_id != id) return std::nullopt;
  slot.has_grant = false;
  if (!slot.view) return std::optional<Grant>();
  return std::optional<Grant>(slot.view->grant);
}

std::optional<std::optional<Grant>> PgReadAhead::take_client_grant(const PgDatabase& db, std::string_view client_id) {
  if (!slot.has_client_grant || !slot.answers(db) || slot.client_id != client_id) return std::nullopt;
  slot.has_client_grant = false;
  return std::move(slot.client_grant);
}

std::optional<std::optional<Account>> PgReadAhead::take_account(const PgDatabase& db, std::string_view sub) {
  // Only an account the prefetch found: a grant without one says nothing about `sub` (it may be another's).
  if (!slot.has_account || !slot.answers(db) || !slot.account || slot.account->sub != sub) return std::nullopt;
  slot.has_account = false;
  return std::move(slot.account);
}

}  // namespace boltauth::store::postgres
