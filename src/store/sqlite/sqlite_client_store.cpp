#include "store/sqlite/sqlite_client_store.hpp"

#include "core/ports/storage_error.hpp"
#include "store/common/column_codec.hpp"

namespace boltauth::store::sqlite {
namespace {

using common::decode_list;
using common::encode_list;
using core::model::Client;
using core::ports::StorageError;

// The one column list of `clients`, in read_client's order.
const std::string select_client =
    "SELECT id, publishable_key, name, secret_hash, redirect_uris, grant_types, created_at, "
    "id_token_signed_response_alg, pkce_required, post_logout_redirect_uris FROM clients";

Client read_client(const Statement& st) {
  Client client;
  client.id = st.column_text(0);
  client.publishable_key = st.column_text(1);
  client.name = st.column_text(2);
  client.secret_hash = st.column_text(3);
  client.redirect_uris = decode_list(st.column_text(4), "sqlite");
  client.grant_types = decode_list(st.column_text(5), "sqlite");
  client.created_at = st.column_int(6);
  client.id_token_signed_response_alg = st.column_text(7);
  client.pkce_required = st.column_bool(8);
  client.post_logout_redirect_uris = decode_list(st.column_text(9), "sqlite");
  return client;
}

}  // namespace

bool SqliteClientStore::insert(const Client& client) {
  const std::string redirect_uris = encode_list(client.redirect_uris);
  const std::string grant_types = encode_list(client.grant_types);
  const std::string post_logout_uris = encode_list(client.post_logout_redirect_uris);
  return db_.write([&](Connection& c) {
    // DO NOTHING covers only uniqueness conflicts; any other failure still throws.
    const bool inserted =
        c.prepare(
             "INSERT INTO clients (id, publishable_key, name, secret_hash, redirect_uris, grant_types, "
             "created_at, id_token_signed_response_alg, pkce_required, post_logout_redirect_uris) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
             "ON CONFLICT DO NOTHING")
            .bind_text(1, client.id)
            .bind_text(2, client.publishable_key)
            .bind_text(3, client.name)
            .bind_text(4, client.secret_hash)
            .bind_text(5, redirect_uris)
            .bind_text(6, grant_types)
            .bind_int(7, client.created_at)
            .bind_text(8, client.id_token_signed_response_alg)
            .bind_bool(9, client.pkce_required)
            .bind_text(10, post_logout_uris)
            .run() == 1;
    return inserted ? keep(true) : rollback(false);
  });
}

std::optional<Client> SqliteClientStore::find(std::string_view client_id) {
  static const std::string sql = select_client + " WHERE id = ?1";
  return db_.read([&](Connection& c) -> std::optional<Client> {
    auto st = c.prepare(sql);
    st.bind_text(1, client_id);
    if (!st.step()) return std::nullopt;
    return read_client(st);
  });
}

std::optional<Client> SqliteClientStore::find_by_secret_hash(std::string_view secret_hash) {
  static const std::string sql = select_client + " WHERE secret_hash = ?1 ORDER BY id LIMIT 1";
  return db_.read([&](Connection& c) -> std::optional<Client> {
    auto st = c.prepare(sql);
    st.bind_text(1, secret_hash);
    if (!st.step()) return std::nullopt;
    return read_client(st);
  });
}

std::vector<Client> SqliteClientStore::list() {
  static const std::string sql = select_client + " ORDER BY id";
  return db_.read([&](Connection& c) {
    std::vector<Client> clients;
    auto st = c.prepare(sql);
    while (st.step()) clients.push_back(read_client(st));
    return clients;
  });
}

bool SqliteClientStore::remove(std::string_view client_id) {
  return db_.write([&](Connection& c) {
    // ON DELETE CASCADE removes its grants (index grants_by_client), login requests and legacy rows.
    const bool removed = c.prepare("DELETE FROM clients WHERE id = ?1").bind_text(1, client_id).run() == 1;
    return removed ? keep(true) : rollback(false);
  });
}

bool SqliteClientStore::update_redirect_uris(std::string_view client_id, const std::vector<std::string>& uris) {
  const std::string encoded = encode_list(uris);
  return db_.write([&](Connection& c) {
    const bool updated = c.prepare("UPDATE clients SET redirect_uris = ?2 WHERE id = ?1")
                             .bind_text(1, client_id)
                             .bind_text(2, encoded)
                             .run() == 1;
    return updated ? keep(true) : rollback(false);
  });
}

bool SqliteClientStore::update_secret_hash(std::string_view client_id, std::string_view secret_hash) {
  return db_.write([&](Connection& c) {
    const bool updated = c.prepare("UPDATE clients SET secret_hash = ?2 WHERE id = ?1")
                             .bind_text(1, client_id)
                             .bind_text(2, secret_hash)
                             .run() == 1;
    return updated ? keep(true) : rollback(false);
  });
}

}  // namespace boltauth::store::sqlite
