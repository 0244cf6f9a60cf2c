#include "store/sqlite/sqlite_address_store.hpp"

#include <cstdint>
#include <string>

#include "store/common/column_codec.hpp"

namespace boltauth::store::sqlite {
namespace {

using core::model::Address;
constexpr std::string_view adapter = "sqlite";

// The one column list of `addresses`, in read_address's order.
const std::string select_address = "SELECT id, sub, fields, is_default, created_at, updated_at FROM addresses";

Address read_address(const Statement& st) {
  Address address;
  address.id = st.column_text(0);
  address.sub = st.column_text(1);
  address.fields = common::decode_fields(st.column_text(2), adapter);
  address.is_default = st.column_bool(3);
  address.created_at = st.column_int(4);
  address.updated_at = st.column_int(5);
  return address;
}

std::optional<Address> find_address(Connection& c, std::string_view sub, std::string_view id) {
  static const std::string sql = select_address + " WHERE sub = ?1 AND id = ?2";
  auto st = c.prepare(sql);
  st.bind_text(1, sub).bind_text(2, id);
  if (!st.step()) return std::nullopt;
  return read_address(st);
}

std::int64_t count_addresses(Connection& c, std::string_view sub) {
  auto st = c.prepare("SELECT count(*) FROM addresses WHERE sub = ?1");
  st.bind_text(1, sub);
  return st.step() ? st.column_int(0) : 0;
}

/// Takes the flag from the book's default, if any: a flag change is a change of that address (updated_at). Runs
/// before the new default gets it, so addresses_one_default never sees two.
void clear_default(Connection& c, std::string_view sub, base::UnixSeconds now) {
  c.prepare("UPDATE addresses SET is_default = 0, updated_at = ?2 WHERE sub = ?1 AND is_default = 1")
      .bind_text(1, sub)
      .bind_int(2, now)
      .run();
}

void insert_address(Connection& c, const Address& a) {
  c.prepare(
       "INSERT INTO addresses (id, sub, fields, is_default, created_at, updated_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_text(1, a.id)
      .bind_text(2, a.sub)
      .bind_text(3, common::encode_fields(a.fields))
      .bind_bool(4, a.is_default)
      .bind_int(5, a.created_at)
      .bind_int(6, a.updated_at)
      .run();
}

}  // namespace

std::vector<Address> SqliteAddressStore::list(std::string_view sub) {
  static const std::string sql = select_address + " WHERE sub = ?1 ORDER BY created_at, id";
  return db_.read([&](Connection& c) {
    std::vector<Address> out;
    auto st = c.prepare(sql);
    st.bind_text(1, sub);
    while (st.step()) out.push_back(read_address(st));
    return out;
  });
}

std::optional<Address> SqliteAddressStore::find(std::string_view sub, std::string_view id) {
  return db_.read([&](Connection& c) { return find_address(c, sub, id); });
}

core::ports::AddressStore::AddResult SqliteAddressStore::add(Address& address, std::size_t max_per_account) {
  struct Result {
    AddResult result;
    bool is_default;
  };
  const Result r = db_.write([&](Connection& c) {
    const std::int64_t held = count_addresses(c, address.sub);
    if (static_cast<std::uint64_t>(held) >= max_per_account) return rollback(Result{AddResult::full, false});
    Address row = address;
    row.is_default = address.is_default || held == 0;  // a book that is not empty has a default
    if (row.is_default && held > 0) clear_default(c, row.sub, row.updated_at);
    insert_address(c, row);
    return keep(Result{AddResult::added, row.is_default});
  });
  // Only a committed write changes the caller's copy.
  if (r.result == AddResult::added) address.is_default = r.is_default;
  return r.result;
}

std::optional<Address> SqliteAddressStore::edit(std::string_view sub, std::string_view id,
                                                const std::map<std::string, std::string>& fields,
                                                std::optional<bool> make_default, base::UnixSeconds now) {
  return db_.write([&](Connection& c) -> Kept<std::optional<Address>> {
    auto current = find_address(c, sub, id);
    if (!current) return rollback(std::optional<Address>());
    const bool becomes_default = make_default.value_or(false) && !current->is_default;
    if (becomes_default) clear_default(c, sub, now);
    c.prepare(
         "UPDATE addresses SET fields = ?3, is_default = is_default OR ?4, updated_at = ?5 WHERE sub = ?1 AND "
         "id = ?2")
        .bind_text(1, sub)
        .bind_text(2, id)
        .bind_text(3, common::encode_fields(fields))
        .bind_bool(4, becomes_default)
        .bind_int(5, now)
        .run();
    current->fields = fields;
    current->is_default = current->is_default || becomes_default;
    current->updated_at = now;
    return keep(std::move(current));
  });
}

bool SqliteAddressStore::replace(std::string_view sub, std::string_view id, Address& replacement) {
  struct Result {
    bool replaced;
    bool is_default;
  };
  const Result r = db_.write([&](Connection& c) {
    auto old = find_address(c, sub, id);
    if (!old) return rollback(Result{false, false});
    c.prepare("DELETE FROM addresses WHERE sub = ?1 AND id = ?2").bind_text(1, sub).bind_text(2, id).run();
    Address row = replacement;
    row.sub = std::string(sub);
    row.is_default = old->is_default || replacement.is_default;
    // When the old one was the default, deleting it took the flag away; otherwise another address may hold it.
    if (row.is_default && !old->is_default) clear_default(c, sub, row.updated_at);
    insert_address(c, row);
    return keep(Result{true, row.is_default});
  });
  if (r.replaced) {
    replacement.sub = std::string(sub);
    replacement.is_default = r.is_default;
  }
  return r.replaced;
}

bool SqliteAddressStore::remove(std::string_view sub, std::string_view id, base::UnixSeconds now) {
  return db_.write([&](Connection& c) {
    std::optional<bool> was_default;
    {
      auto st = c.prepare("DELETE FROM addresses WHERE sub = ?1 AND id = ?2 RETURNING is_default");
      st.bind_text(1, sub).bind_text(2, id);
      if (st.step()) was_default = st.column_bool(0);
      while (st.step()) {
      }
    }
    if (!was_default) return rollback(false);
    if (*was_default)
      c.prepare(
           "UPDATE addresses SET is_default = 1, updated_at = ?2 WHERE id = (SELECT id FROM addresses WHERE sub = "
           "?1 ORDER BY created_at, id LIMIT 1)")
          .bind_text(1, sub)
          .bind_int(2, now)
          .run();
    return keep(true);
  });
}

}  // namespace boltauth::store::sqlite
