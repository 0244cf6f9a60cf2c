#include "store/postgres/pg_purge_store.hpp"

#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {
namespace {

// The next `limit` grants after the cursor ($1), and in one statement the ones among them that nothing can use any
// more: pending grants whose code expired, grants past their end, revoked grants (their ids are never reused, so a
// token naming one stays dead after the row is gone). Answers rows examined, the last id examined, and the
// deletions split into never-redeemed (codes) and redeemed ones. The DELETE re-checks its condition against the
// newest version of a row a concurrent request changed. The DELETE names its rows as an array of ids, which the
// planner can only look up in the primary key: written as a join with the window, it hashed the window against a
// sequential scan of all grants filtered by expiry, so every batch read the whole table and a pass over N grants
// read N x batches rows (800,000 grants kept the database busy for minutes each janitor interval, on every node).
const PgStatement purge_grants_sql(
    "WITH w AS (SELECT id FROM grants WHERE id > $1 ORDER BY id LIMIT $2), "
    "d AS (DELETE FROM grants g WHERE g.id = ANY (ARRAY(SELECT id FROM w)) AND ((g.redeemed_at IS NULL AND "
    "g.code_expires_at <= $3) OR g.expires_at <= $3 OR g.revoked_at <= $3) RETURNING g.redeemed_at IS NULL AS pending) "
    "SELECT (SELECT count(*) FROM w), (SELECT max(id) FROM w), (SELECT count(*) FROM d WHERE pending), "
    "(SELECT count(*) FROM d WHERE NOT pending)");
// Expiry-indexed kinds. SKIP LOCKED: concurrent janitors take different rows instead of queueing (or deadlocking)
// on the same ones. The rows go by their physical address (ctid, stable while this transaction holds their lock):
// a TID lookup each. As `key IN (subquery)` the planner joined the batch with a sequential scan of the whole table.
// ORDER BY the indexed column, so that no plan (a generic one included) finds the batch by scanning the table.
const PgStatement purge_denied_sql(
    "DELETE FROM denied_tokens WHERE ctid = ANY (ARRAY(SELECT ctid FROM denied_tokens "
    "WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))");
// Login requests and sessions are refused by their own expires_at check; deleting them is only space.
const PgStatement purge_requests_sql(
    "DELETE FROM login_requests WHERE ctid = ANY (ARRAY(SELECT ctid FROM login_requests "
    "WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))");
const PgStatement purge_sessions_sql(
    "DELETE FROM login_sessions WHERE ctid = ANY (ARRAY(SELECT ctid FROM login_sessions "
    "WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))");
// Idempotency-Key records are kept for a fixed time from their claim, completed or not.
const PgStatement purge_idempotency_keys_sql(
    "DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys "
    "WHERE created_at <= $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))");

}  // namespace

core::ports::PurgeCounts PgPurgeStore::purge_batch(base::UnixSeconds now, int limit) {
  std::lock_guard lock(mutex_);
  struct Result {
    core::ports::PurgeCounts counts;
    Cursor grants;
  };
  // A deadlock retry reruns the function from the committed cursor: everything is computed inside.
  const Result result = db_.transaction([&](PgConnection& c) {
    Result r{{}, grants_};
    auto& counts = r.counts;
    bool hit_limit = false;

    if (!r.grants.done) {
      const PgResult w = c.run(purge_grants_sql, {r.grants.after, limit, now});
      const std::int64_t examined = w.int64(0, 0);
      counts.codes = w.int64(0, 2);
      counts.grants = w.int64(0, 3);
      // At the end of the table the cursor goes back to 0 and is done for this pass.
      if (examined < limit) {
        r.grants = Cursor{0, true};
      } else {
        r.grants.after = w.int64(0, 1);
      }
    }

    counts.denied_tokens = c.run(purge_denied_sql, {now, limit}).affected();
    hit_limit |= counts.denied_tokens >= limit;
    for (const PgStatement* statement : {&purge_requests_sql, &purge_sessions_sql}) {
      const std::int64_t deleted = c.run(*statement, {now, limit}).affected();
      counts.logins += deleted;
      hit_limit |= deleted >= limit;
    }

    counts.idempotency_keys =
        c.run(purge_idempotency_keys_sql, {now - core::ports::idempotency_key_lifetime, limit}).affected();
    hit_limit |= counts.idempotency_keys >= limit;

    const bool pass_over = r.grants.done;
    if (pass_over) r.grants.done = false;  // the next call starts a new pass
    counts.more = hit_limit || !pass_over;
    return r;
  });
  // Only a committed batch moves the cursor (a failed one throws above and is visited again).
  grants_ = result.grants;
  return result.counts;
}

}  // namespace boltauth::store::postgres
