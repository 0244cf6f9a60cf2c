#pragma once
// Column lists and row readers of the tables several statements read (a store's own, and the read-ahead's join).
#include <string>

#include "core/model/account.hpp"
#include "core/model/client.hpp"
#include "core/model/grant.hpp"
#include "store/common/column_codec.hpp"

namespace boltauth::store::postgres {

class PgResult;

// Inline variables: initialized before any statement of a file that includes this header is built from them.

/// `clients` columns in read_client's order, and their number.
inline const std::string client_columns =
    "id, publishable_key, name, secret_hash, redirect_uris, grant_types, created_at, id_token_signed_response_alg, "
    "pkce_required, post_logout_redirect_uris";
inline constexpr int kClientColumns = 10;
/// `accounts` columns in read_account's order, and their number.
inline const std::string account_columns =
    "sub, email, email_verified, first_name, last_name, phone, phone_verified, otp_hash, deactivate_at, created_at, "
    "updated_at";
inline constexpr int kAccountColumns = 11;
/// `grants` columns after id, in read_grant's order; read_grant reads id and these (kGrantColumns in all).
inline const std::string grant_columns{common::grant_columns};
inline constexpr int kGrantColumns = 20;

/// The row's columns from `first` on, in the order of the lists above.
core::model::Client read_client(const PgResult& r, int row, int first = 0);
core::model::Account read_account(const PgResult& r, int row, int first = 0);
core::model::Grant read_grant(const PgResult& r, int row, int first = 0);

/// `columns` (a list as above) with each name qualified by `alias` ("g" -> "g.id, g.kind, ...").
std::string qualified(const std::string& columns, const std::string& alias);

}  // namespace boltauth::store::postgres
