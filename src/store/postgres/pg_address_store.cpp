#include "store/postgres/pg_address_store.hpp"

#include <cstdint>
#include <string>

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {
namespace {

using core::model::Address;
constexpr std::string_view adapter = "postgres";

// `addresses` columns in read_address's order.
const std::string address_columns = "id, sub, fields, is_default, created_at, updated_at";

const PgStatement list_sql("SELECT " + address_columns + " FROM addresses WHERE sub = $1 ORDER BY created_at, id");
const PgStatement find_sql("SELECT " + address_columns + " FROM addresses WHERE sub = $1 AND id = $2");
// Serializes the writes of one book across connections and nodes. NO KEY UPDATE: it still lets foreign-key checks
// (KEY SHARE) through, and conflicts with itself.
const PgStatement lock_account_sql("SELECT 1 FROM accounts WHERE sub = $1 FOR NO KEY UPDATE");
const PgStatement count_sql("SELECT count(*) FROM addresses WHERE sub = $1");
// Runs before the new default gets the flag, so addresses_one_default never sees two; a flag change is a change of
// that address (updated_at).
const PgStatement clear_default_sql(
    "UPDATE addresses SET is_default = false, updated_at = $2 WHERE sub = $1 AND is_default");
const PgStatement insert_sql("INSERT INTO addresses (" + address_columns + ") VALUES ($1, $2, $3, $4, $5, $6)");
const PgStatement edit_sql(
    "UPDATE addresses SET fields = $3, is_default = is_default OR $4, updated_at = $5 WHERE sub = $1 AND id = $2");
const PgStatement delete_sql("DELETE FROM addresses WHERE sub = $1 AND id = $2 RETURNING is_default");
const PgStatement promote_oldest_sql(
    "UPDATE addresses SET is_default = true, updated_at = $2 WHERE id = (SELECT id FROM addresses WHERE sub = $1 "
    "ORDER BY created_at, id LIMIT 1)");

Address read_address(const PgResult& r, int row) {
  Address address;
  address.id = r.text(row, 0);
  address.sub = r.text(row, 1);
  address.fields = common::decode_fields(r.text_view(row, 2), adapter);
  address.is_default = r.boolean(row, 3);
  address.created_at = r.int64(row, 4);
  address.updated_at = r.int64(row, 5);
  return address;
}

std::optional<Address> find_address(PgConnection& c, std::string_view sub, std::string_view id) {
  const PgResult r = c.run(find_sql, {sub, id});
  if (r.rows() == 0) return std::nullopt;
  return read_address(r, 0);
}

void insert_address(PgConnection& c, const Address& a) {
  const std::string fields = common::encode_fields(a.fields);
  c.run(insert_sql, {a.id, a.sub, fields, a.is_default, a.created_at, a.updated_at});
}

}  // namespace

std::vector<Address> PgAddressStore::list(std::string_view sub) {
  return db_.run([&](PgConnection& c) {
    const PgResult r = c.run(list_sql, {sub});
    std::vector<Address> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_address(r, i));
    return out;
  });
}

std::optional<Address> PgAddressStore::find(std::string_view sub, std::string_view id) {
  return db_.run([&](PgConnection& c) { return find_address(c, sub, id); });
}

core::ports::AddressStore::AddResult PgAddressStore::add(Address& address, std::size_t max_per_account) {
  struct Result {
    AddResult result;
    bool is_default;
  };
  // A deadlock retry reruns the function: the caller's copy changes only once the transaction committed.
  const Result r = db_.transaction([&](PgConnection& c) {
    c.run(lock_account_sql, {address.sub});
    const std::int64_t held = c.run(count_sql, {address.sub}).int64(0, 0);
    if (static_cast<std::uint64_t>(held) >= max_per_account) return Result{AddResult::full, false};
    Address row = address;
    row.is_default = address.is_default || held == 0;  // a book that is not empty has a default
    if (row.is_default && held > 0) c.run(clear_default_sql, {row.sub, row.updated_at});
    insert_address(c, row);
    return Result{AddResult::added, row.is_default};
  });
  if (r.result == AddResult::added) address.is_default = r.is_default;
  return r.result;
}

std::optional<Address> PgAddressStore::edit(std::string_view sub, std::string_view id,
                                            const std::map<std::string, std::string>& fields,
                                            std::optional<bool> make_default, base::UnixSeconds now) {
  const std::string encoded = common::encode_fields(fields);
  return db_.transaction([&](PgConnection& c) -> std::optional<Address> {
    c.run(lock_account_sql, {sub});
    auto current = find_address(c, sub, id);
    if (!current) return std::nullopt;
    const bool becomes_default = make_default.value_or(false) && !current->is_default;
    if (becomes_default) c.run(clear_default_sql, {sub, now});
    c.run(edit_sql, {sub, id, encoded, becomes_default, now});
    current->fields = fields;
    current->is_default = current->is_default || becomes_default;
    current->updated_at = now;
    return current;
  });
}

bool PgAddressStore::replace(std::string_view sub, std::string_view id, Address& replacement) {
  struct Result {
    bool replaced;
    bool is_default;
  };
  const Result r = db_.transaction([&](PgConnection& c) {
    c.run(lock_account_sql, {sub});
    const PgResult deleted = c.run(delete_sql, {sub, id});
    if (deleted.rows() == 0) return Result{false, false};
    const bool old_default = deleted.boolean(0, 0);
    Address row = replacement;
    row.sub = std::string(sub);
    row.is_default = old_default || replacement.is_default;
    // When the old one was the default, deleting it took the flag away; otherwise another address may hold it.
    if (row.is_default && !old_default) c.run(clear_default_sql, {sub, row.updated_at});
    insert_address(c, row);
    return Result{true, row.is_default};
  });
  if (r.replaced) {
    replacement.sub = std::string(sub);
    replacement.is_default = r.is_default;
  }
  return r.replaced;
}

bool PgAddressStore::remove(std::string_view sub, std::string_view id, base::UnixSeconds now) {
  return db_.transaction([&](PgConnection& c) {
    c.run(lock_account_sql, {sub});
    const PgResult deleted = c.run(delete_sql, {sub, id});
    if (deleted.rows() == 0) return false;
    if (deleted.boolean(0, 0)) c.run(promote_oldest_sql, {sub, now});
    return true;
  });
}

}  // namespace boltauth::store::postgres
