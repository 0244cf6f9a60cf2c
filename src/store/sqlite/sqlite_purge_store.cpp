#include "store/sqlite/sqlite_purge_store.hpp"

#include <string>

namespace boltauth::store::sqlite {
namespace {

/// The key window of the next `limit` rows of `table` after `after`: rows examined and the last key.
struct Window {
  std::int64_t rows = 0;
  std::int64_t last = 0;
};

Window next_window(Connection& c, const std::string& sql, std::int64_t after, int limit) {
  auto st = c.prepare(sql);
  st.bind_int(1, after).bind_int(2, limit);
  Window w;
  if (st.step()) {
    w.rows = st.column_int(0);
    w.last = st.column_optional_int(1).value_or(after);
  }
  return w;
}

/// Advances a cursor past `w`; at the end of the table it goes back to 0 and is done for this pass.
void advance(std::int64_t& after, bool& done, const Window& w, int limit) {
  if (w.rows < limit) {
    after = 0;
    done = true;
  } else {
    after = w.last;
  }
}

}  // namespace

core::ports::PurgeCounts SqlitePurgeStore::purge_batch(base::UnixSeconds now, int limit) {
  std::lock_guard lock(mutex_);
  struct Result {
    core::ports::PurgeCounts counts;
    Cursor grants;
    Cursor legacy_grants;
  };
  const Result result = db_.write([&](Connection& c) {
    Result r{{}, grants_, legacy_grants_};
    auto& counts = r.counts;
    bool hit_limit = false;

    if (!r.grants.done) {
      const Window w =
          next_window(c, "SELECT count(*), max(id) FROM (SELECT id FROM grants WHERE id > ?1 ORDER BY id LIMIT ?2)",
                      r.grants.after, limit);
      // Pending grants whose code expired, grants past their end, revoked grants (their ids are never reused,
      // so a token naming one stays dead after the row is gone).
      auto st = c.prepare(
          "DELETE FROM grants WHERE id > ?1 AND id <= ?2 AND ((redeemed_at IS NULL AND code_expires_at <= ?3) "
          "OR expires_at <= ?3 OR revoked_at <= ?3) RETURNING redeemed_at IS NULL");
      st.bind_int(1, r.grants.after).bind_int(2, w.last).bind_int(3, now);
      while (st.step()) ++(st.column_bool(0) ? counts.codes : counts.grants);
      advance(r.grants.after, r.grants.done, w, limit);
    }

    counts.denied_tokens = c.prepare(
                                "DELETE FROM denied_tokens WHERE (grant_id, jti) IN (SELECT grant_id, jti FROM "
                                "denied_tokens WHERE expires_at <= ?1 LIMIT ?2)")
                               .bind_int(1, now)
                               .bind_int(2, limit)
                               .run();
    hit_limit |= counts.denied_tokens >= limit;

    // Legacy rows (before storage v2): tokens past their own expiry (a used refresh token is kept for its
    // lifetime, so presenting it again still revokes what its family moved into), expired codes, then families
    // that are revoked or have no token left (revoking cascades to their remaining tokens).
    const auto legacy_tokens = c.prepare(
                                    "DELETE FROM legacy_tokens WHERE rowid IN (SELECT rowid FROM legacy_tokens "
                                    "WHERE expires_at <= ?1 LIMIT ?2)")
                                   .bind_int(1, now)
                                   .bind_int(2, limit)
                                   .run();
    counts.legacy_tokens = legacy_tokens;
    hit_limit |= legacy_tokens >= limit;
    const auto legacy_codes = c.prepare(
                                   "DELETE FROM legacy_codes WHERE rowid IN (SELECT rowid FROM legacy_codes "
                                   "WHERE expires_at <= ?1 LIMIT ?2)")
                                  .bind_int(1, now)
                                  .bind_int(2, limit)
                                  .run();
    counts.legacy_grants = legacy_codes;
    hit_limit |= legacy_codes >= limit;
    if (!r.legacy_grants.done) {
      const Window w = next_window(
          c,
          "SELECT count(*), max(rowid) FROM (SELECT rowid FROM legacy_grants WHERE rowid > ?1 ORDER BY rowid LIMIT ?2)",
          r.legacy_grants.after, limit);
      counts.legacy_grants +=
          c.prepare(
               "DELETE FROM legacy_grants WHERE rowid > ?1 AND rowid <= ?2 AND (revoked_at <= ?3 OR NOT EXISTS "
               "(SELECT 1 FROM legacy_tokens t WHERE t.grant_id = legacy_grants.id))")
              .bind_int(1, r.legacy_grants.after)
              .bind_int(2, w.last)
              .bind_int(3, now)
              .run();
      advance(r.legacy_grants.after, r.legacy_grants.done, w, limit);
    }

    // Login requests and sessions are refused by their own expires_at check; deleting them is only space.
    for (const char* table : {"login_requests", "login_sessions"}) {
      const int deleted = c.prepare(std::string("DELETE FROM ") + table + " WHERE rowid IN (SELECT rowid FROM " +
                                    table + " WHERE expires_at <= ?1 LIMIT ?2)")
                              .bind_int(1, now)
                              .bind_int(2, limit)
                              .run();
      counts.logins += deleted;
      hit_limit |= deleted >= limit;
    }

    // Idempotency-Key records are kept for a fixed time from their claim, completed or not.
    counts.idempotency_keys = c.prepare(
                                   "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM "
                                   "idempotency_keys WHERE created_at <= ?1 LIMIT ?2)")
                                  .bind_int(1, now - core::ports::idempotency_key_lifetime)
                                  .bind_int(2, limit)
                                  .run();
    hit_limit |= counts.idempotency_keys >= limit;

    const bool pass_over = r.grants.done && r.legacy_grants.done;
    if (pass_over) r.grants.done = r.legacy_grants.done = false;  // the next call starts a new pass
    counts.more = hit_limit || !pass_over;
    return r;
  });
  // Only a committed batch moves the cursors (a failed one throws above and is visited again).
  grants_ = result.grants;
  legacy_grants_ = result.legacy_grants;
  return result.counts;
}

}  // namespace boltauth::store::sqlite
