#include "store/postgres/pg_client_store.hpp"

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_read_ahead.hpp"
#include "store/postgres/pg_rows.hpp"

namespace boltauth::store::postgres {
namespace {

using common::encode_list;
using core::model::Client;
using core::ports::StorageError;

std::optional<Client> first_client(const PgResult& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_client(r, 0);
}

// DO NOTHING covers only uniqueness conflicts (id, publishable key); any other failure still throws.
const PgStatement insert_sql("INSERT INTO clients (" + client_columns +
                             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING");
const PgStatement find_sql("SELECT " + client_columns + " FROM clients WHERE id = $1");
const PgStatement find_by_secret_sql("SELECT " + client_columns +
                                     " FROM clients WHERE secret_hash = $1 ORDER BY id LIMIT 1");
const PgStatement list_sql("SELECT " + client_columns + " FROM clients ORDER BY id");
// ON DELETE CASCADE removes its grants (index grants_by_client) and login requests in the same statement.
const PgStatement remove_sql("DELETE FROM clients WHERE id = $1");
const PgStatement update_secret_sql("UPDATE clients SET secret_hash = $2 WHERE id = $1");
const PgStatement update_redirect_uris_sql("UPDATE clients SET redirect_uris = $2 WHERE id = $1");

}  // namespace

bool PgClientStore::insert(const Client& client) {
  const std::string redirect_uris = encode_list(client.redirect_uris);
  const std::string grant_types = encode_list(client.grant_types);
  return db_.run([&](PgConnection& c) {
    return c.run(insert_sql, {client.id, client.publishable_key, client.name, client.secret_hash, redirect_uris,
                              grant_types, client.created_at, client.id_token_signed_response_alg, client.pkce_required,
                              encode_list(client.post_logout_redirect_uris)})
               .affected() == 1;
  });
}

std::optional<Client> PgClientStore::find(std::string_view client_id) {
  if (auto ahead = PgReadAhead::take_client(db_, client_id)) return std::move(*ahead);
  return db_.run([&](PgConnection& c) { return first_client(c.run(find_sql, {client_id})); });
}

std::optional<Client> PgClientStore::find_by_secret_hash(std::string_view secret_hash) {
  return db_.run([&](PgConnection& c) { return first_client(c.run(find_by_secret_sql, {secret_hash})); });
}

std::vector<Client> PgClientStore::list() {
  return db_.run([&](PgConnection& c) {
    const PgResult r = c.run(list_sql);
    std::vector<Client> clients;
    clients.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) clients.push_back(read_client(r, row));
    return clients;
  });
}

bool PgClientStore::remove(std::string_view client_id) {
  return db_.run([&](PgConnection& c) { return c.run(remove_sql, {client_id}).affected() == 1; });
}

bool PgClientStore::update_redirect_uris(std::string_view client_id, const std::vector<std::string>& uris) {
  const std::string encoded = common::encode_list(uris);
  return db_.run([&](PgConnection& c) {
    return c.run(update_redirect_uris_sql, {client_id, encoded}).affected() == 1;
  });
}

bool PgClientStore::update_secret_hash(std::string_view client_id, std::string_view secret_hash) {
  return db_.run([&](PgConnection& c) { return c.run(update_secret_sql, {client_id, secret_hash}).affected() == 1; });
}

}  // namespace boltauth::store::postgres
