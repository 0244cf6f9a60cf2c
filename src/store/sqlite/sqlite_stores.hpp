#pragma once
// Every SQLite store, for callers that wire them all up (the composition root, tools, tests).
#include "store/sqlite/sqlite_account_store.hpp"
#include "store/sqlite/sqlite_address_store.hpp"
#include "store/sqlite/sqlite_client_store.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_grant_store.hpp"
#include "store/sqlite/sqlite_idempotency_store.hpp"
#include "store/sqlite/sqlite_legacy_token_store.hpp"
#include "store/sqlite/sqlite_login_store.hpp"
#include "store/sqlite/sqlite_purge_store.hpp"
