#pragma once
// Every PostgreSQL store, for callers that wire them all up (the composition root, tools, tests).
#include "store/postgres/pg_account_store.hpp"
#include "store/postgres/pg_address_store.hpp"
#include "store/postgres/pg_client_store.hpp"
#include "store/postgres/pg_database.hpp"
#include "store/postgres/pg_grant_store.hpp"
#include "store/postgres/pg_idempotency_store.hpp"
#include "store/postgres/pg_legacy_token_store.hpp"
#include "store/postgres/pg_login_store.hpp"
#include "store/postgres/pg_purge_store.hpp"
#include "store/postgres/pg_read_ahead.hpp"
#include "store/postgres/pg_secret_store.hpp"
#include "store/postgres/pg_throttle_store.hpp"
