#include "store/postgres/pg_rows.hpp"

#include "store/common/column_codec.hpp"
#include "store/postgres/pg_connection.hpp"

namespace boltauth::store::postgres {

using core::model::Account;
using core::model::Client;
using core::model::Grant;

Client read_client(const PgResult& r, int row, int first) {
  Client client;
  client.id = r.text(row, first + 0);
  client.publishable_key = r.text(row, first + 1);
  client.name = r.text(row, first + 2);
  client.secret_hash = r.text(row, first + 3);
  client.redirect_uris = common::decode_list(r.text_view(row, first + 4), "postgres");
  client.grant_types = common::decode_list(r.text_view(row, first + 5), "postgres");
  client.created_at = r.int64(row, first + 6);
  client.id_token_signed_response_alg = r.text(row, first + 7);
  client.pkce_required = r.boolean(row, first + 8);
  client.post_logout_redirect_uris = common::decode_list(r.text_view(row, first + 9), "postgres");
  return client;
}

Account read_account(const PgResult& r, int row, int first) {
  Account account;
  account.sub = r.text(row, first + 0);
  account.email = r.text(row, first + 1);
  account.email_verified = r.boolean(row, first + 2);
  account.first_name = r.text(row, first + 3);
  account.last_name = r.text(row, first + 4);
  account.phone = r.optional_text(row, first + 5);
  account.phone_verified = r.boolean(row, first + 6);
  account.otp_hash = r.optional_text(row, first + 7);
  account.deactivate_at = r.optional_int64(row, first + 8);
  account.created_at = r.int64(row, first + 9);
  account.updated_at = r.int64(row, first + 10);
  return account;
}

Grant read_grant(const PgResult& r, int row, int first) {
  Grant g;
  g.id = r.int64(row, first + 0);
  g.kind = common::decode_grant_kind(r.int64(row, first + 1), "postgres");
  g.client_id = r.text(row, first + 2);
  g.sub = r.text(row, first + 3);
  g.scope = r.text(row, first + 4);
  g.redirect_uri = r.text(row, first + 5);
  g.code_challenge = r.text(row, first + 6);
  g.nonce = r.text(row, first + 7);
  g.state = r.text(row, first + 8);
  g.auth_time = r.int64(row, first + 9);
  g.created_at = r.int64(row, first + 10);
  g.code_expires_at = r.int64(row, first + 11);
  g.redeemed_at = r.optional_int64(row, first + 12);
  g.generation = r.int64(row, first + 13);
  g.rotated_at = r.optional_int64(row, first + 14);
  g.replayed = r.boolean(row, first + 15);
  g.access_floor = r.int64(row, first + 16);
  g.expires_at = r.optional_int64(row, first + 17);
  g.revoked_at = r.optional_int64(row, first + 18);
  g.salt = static_cast<std::uint32_t>(r.int64(row, first + 19));
  return g;
}

std::string qualified(const std::string& columns, const std::string& alias) {
  std::string out = alias + ".";
  for (char ch : columns) {
    out += ch;
    if (ch == ' ') out += alias + ".";
  }
  return out;
}

}  // namespace boltauth::store::postgres
