#pragma once
// The storage contract every adapter must pass: one GoogleTest typed suite, parameterised by a factory.
//
// A factory type F provides:
//   F()                               fresh, empty storage of its own; ~F() removes it
//   std::unique_ptr<StoreSet> open()  connects to that storage; called again after the previous StoreSet is
//                                     destroyed, to test durability and re-running migrations
//
// To run the suite against an adapter, define its factory and write, in that one source file, inside
// namespace boltauth::contract:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreContract, ::testing::Types<PostgresStoreFactory>);
//
// GoogleTest keeps a pattern's registration file-local, so the pattern lives in this header and is
// compiled in the instantiating file; store_contract_test.cpp holds the shared builders and race harness.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/janitor.hpp"
#include "core/model/account.hpp"
#include "core/model/address.hpp"
#include "core/model/client.hpp"
#include "core/model/grant.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/address_store.hpp"
#include "core/ports/client_store.hpp"
#include "core/ports/grant_store.hpp"
#include "core/ports/idempotency_store.hpp"
#include "core/ports/login_store.hpp"
#include "core/ports/purge_store.hpp"
#include "store/common/column_codec.hpp"

namespace boltauth::contract {

/// The ports of one open connection to a backend.
class StoreSet {
 public:
  virtual ~StoreSet() = default;
  virtual core::ports::ClientStore& clients() = 0;
  virtual core::ports::AccountStore& accounts() = 0;
  virtual core::ports::GrantStore& grants() = 0;
  virtual core::ports::PurgeStore& purge() = 0;
  virtual core::ports::LoginStore& logins() = 0;
  virtual core::ports::AddressStore& addresses() = 0;
  virtual core::ports::IdempotencyStore& idempotency() = 0;
  /// Writes a fixed one-time code in clear into the account's row, as servers before the otp_hash column did.
  virtual void put_clear_otp_code(std::string_view sub, std::string_view code) = 0;
  /// The row's clear `otp_code` column.
  virtual std::optional<std::string> clear_otp_code(std::string_view sub) = 0;
};

// --- builders (store_contract_test.cpp) ------------------------------------------------------------------

/// The suite's "now". Codes live 60 s, access tokens 1 h, refresh tokens 30 days from their issue time.
inline constexpr base::UnixSeconds t0 = 1'800'000'000;

core::model::Client make_client(std::string_view id);
core::model::Account make_account(std::string_view sub, std::string_view email);
/// A pending login request of `client_id` with id hash `id`, created at 100 and valid until 2000, no code sent.
core::model::LoginRequest make_login_request(std::string_view id, std::string_view client_id);
/// An address `id` of `sub` created (and updated) at `created_at`, not the default, with fields a naive encoding would
/// mangle (quotes, a backslash, non-ASCII, an empty value).
core::model::Address make_address(std::string_view id, std::string_view sub, base::UnixSeconds created_at);
/// A pending authorization-code grant of `client_id` created at `now` (code valid 60 s), every text field set to
/// a distinct value derived from `tag`.
core::model::Grant make_grant(std::string_view tag, std::string_view client_id, base::UnixSeconds now);

struct RaceResult {
  int consumed = 0;
  int lost = 0;
  int errors = 0;
};
/// Starts `threads` threads that call `attempt(thread_index)` at the same moment; counts the outcomes
/// (an exception counts as an error).
RaceResult race(int threads, const std::function<core::ports::ConsumeOutcome(int)>& attempt);

// --- fixture ---------------------------------------------------------------------------------------------

template <class Factory>
class StoreContract : public ::testing::Test {
  static_assert(std::is_default_constructible_v<Factory>);
  static_assert(std::is_convertible_v<decltype(std::declval<Factory&>().open()), std::unique_ptr<StoreSet>>);

 protected:
  void SetUp() override {
    stores_ = factory_.open();
    ASSERT_TRUE(clients().insert(make_client(client_id)));
  }

  core::ports::ClientStore& clients() { return stores_->clients(); }
  core::ports::AccountStore& accounts() { return stores_->accounts(); }
  core::ports::GrantStore& grants() { return stores_->grants(); }
  core::ports::PurgeStore& purge() { return stores_->purge(); }
  core::ports::LoginStore& logins() { return stores_->logins(); }
  core::ports::AddressStore& addresses() { return stores_->addresses(); }
  core::ports::IdempotencyStore& idempotency() { return stores_->idempotency(); }
  StoreSet& stores() { return *stores_; }
  core::model::LoginRequest login_request(std::string_view id) { return make_login_request(id, client_id); }

  /// Closes the connection and opens the same storage again.
  void reopen() {
    stores_.reset();
    stores_ = factory_.open();
  }

  /// Inserts a pending grant of `client` and redeems it at t0 + 1 (valid 30 days): an active grant, generation 1.
  std::int64_t active_grant(std::string_view tag, std::string_view client = client_id) {
    const auto id = grants().insert_grant(make_grant(tag, client, t0));
    EXPECT_EQ(grants().redeem(id, t0 + 1, t0 + refresh_lifetime), core::ports::ConsumeOutcome::consumed);
    return id;
  }

  /// Inserts the accounts address tests write to.
  void address_accounts() {
    ASSERT_TRUE(accounts().insert(make_account("sub-1", "one@example.com")));
    ASSERT_TRUE(accounts().insert(make_account("sub-2", "two@example.com")));
  }
  /// Adds make_address(id, sub, created_at) with room for 10 and returns it as stored.
  core::model::Address add_address(std::string_view id, base::UnixSeconds created_at, bool is_default = false,
                                   std::string_view sub = "sub-1") {
    auto address = make_address(id, sub, created_at);
    address.is_default = is_default;
    EXPECT_EQ(addresses().add(address, 10), core::ports::AddressStore::AddResult::added) << id;
    return address;
  }
  /// The ids of `sub`'s book in list order, the default marked with a '*'.
  std::vector<std::string> book(std::string_view sub = "sub-1") {
    std::vector<std::string> out;
    for (const auto& a : addresses().list(sub)) out.push_back(a.id + (a.is_default ? "*" : ""));
    return out;
  }

  static constexpr base::UnixSeconds refresh_lifetime = 30 * 86400;
  static constexpr std::string_view client_id = "client-a";

  Factory factory_;
  std::unique_ptr<StoreSet> stores_;  // declared after factory_: closed before the storage is removed
};

TYPED_TEST_SUITE_P(StoreContract);

using core::ports::ConsumeOutcome;

// --- clients ---------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, ClientInsertFindRoundTrip) {
  const auto client = make_client("client-b");
  ASSERT_TRUE(this->clients().insert(client));
  EXPECT_EQ(this->clients().find("client-b"), client);

  auto bare = make_client("client-c");  // empty lists must survive too
  bare.redirect_uris.clear();
  bare.grant_types.clear();
  ASSERT_TRUE(this->clients().insert(bare));
  EXPECT_EQ(this->clients().find("client-c"), bare);
}

TYPED_TEST_P(StoreContract, ClientFindUnknownIsEmpty) {
  EXPECT_EQ(this->clients().find("nobody"), std::nullopt);
  EXPECT_EQ(this->clients().find("CLIENT-A"), std::nullopt);  // ids are exact
}

TYPED_TEST_P(StoreContract, ClientFindBySecretHash) {
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  EXPECT_EQ(this->clients().find_by_secret_hash("secret-hash-client-b"), make_client("client-b"));
  EXPECT_EQ(this->clients().find_by_secret_hash("secret-hash-client-a"), make_client("client-a"));
  EXPECT_EQ(this->clients().find_by_secret_hash("secret-hash-client-z"), std::nullopt);
  EXPECT_EQ(this->clients().find_by_secret_hash("client-b"), std::nullopt);

  ASSERT_TRUE(this->clients().update_secret_hash("client-b", "rotated"));
  EXPECT_EQ(this->clients().find_by_secret_hash("secret-hash-client-b"), std::nullopt);
  EXPECT_EQ(this->clients().find_by_secret_hash("rotated").value().id, "client-b");
}

TYPED_TEST_P(StoreContract, ClientDuplicateIdIsRejected) {
  auto other = make_client(TestFixture::client_id);
  other.name = "impostor";
  other.publishable_key = "different.key.client-a";
  EXPECT_FALSE(this->clients().insert(other));
  EXPECT_EQ(this->clients().find(TestFixture::client_id), make_client(TestFixture::client_id));
}

TYPED_TEST_P(StoreContract, ClientListReturnsEveryClient) {
  ASSERT_TRUE(this->clients().insert(make_client("client-c")));
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  auto listed = this->clients().list();
  std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  const std::vector<core::model::Client> expected = {make_client("client-a"), make_client("client-b"),
                                                     make_client("client-c")};
  EXPECT_EQ(listed, expected);
}

TYPED_TEST_P(StoreContract, ClientRemoveUnknownReturnsFalse) {
  EXPECT_FALSE(this->clients().remove("nobody"));
  ASSERT_TRUE(this->clients().remove(TestFixture::client_id));
  EXPECT_FALSE(this->clients().remove(TestFixture::client_id));
}

TYPED_TEST_P(StoreContract, ClientUpdateSecretHash) {
  ASSERT_TRUE(this->clients().update_secret_hash(TestFixture::client_id, "new-hash"));
  auto expected = make_client(TestFixture::client_id);
  expected.secret_hash = "new-hash";
  EXPECT_EQ(this->clients().find(TestFixture::client_id), expected);
  EXPECT_FALSE(this->clients().update_secret_hash("nobody", "x"));
}

TYPED_TEST_P(StoreContract, ClientUpdateRedirectUris) {
  const std::vector<std::string> uris{"https://a.example/cb", "http://127.0.0.1:8080/demo/callback"};
  ASSERT_TRUE(this->clients().update_redirect_uris(TestFixture::client_id, uris));
  auto expected = make_client(TestFixture::client_id);
  expected.redirect_uris = uris;
  EXPECT_EQ(this->clients().find(TestFixture::client_id), expected);
  EXPECT_FALSE(this->clients().update_redirect_uris("nobody", uris));
}

// --- accounts --------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, AccountInsertFindRoundTrip) {
  auto full = make_account("sub-1", "ada@example.com");
  full.phone = "+14155550100";
  full.phone_verified = true;
  full.otp_hash = "keyed-hash-of-the-fixed-code";
  full.deactivate_at = t0 + 3600;
  const auto bare = make_account("sub-2", "bob@example.com");  // every optional empty
  ASSERT_TRUE(this->accounts().insert(full));
  ASSERT_TRUE(this->accounts().insert(bare));
  EXPECT_EQ(this->accounts().find("sub-1"), full);
  EXPECT_EQ(this->accounts().find("sub-2"), bare);
  EXPECT_EQ(this->accounts().find_by_email("ada@example.com"), full);
  EXPECT_EQ(this->accounts().find("sub-3"), std::nullopt);
  EXPECT_EQ(this->accounts().find_by_email("carol@example.com"), std::nullopt);
}

TYPED_TEST_P(StoreContract, AccountClearOtpCodesBecomeKeyedHashes) {
  ASSERT_TRUE(this->accounts().insert(make_account("sub-1", "ada@example.com")));
  ASSERT_TRUE(this->accounts().insert(make_account("sub-2", "bob@example.com")));
  this->stores().put_clear_otp_code("sub-1", "424242");
  ASSERT_EQ(this->stores().clear_otp_code("sub-1"), "424242");
  const auto hash = [](std::string_view sub, std::string_view code) {
    return "hash(" + std::string(sub) + "," + std::string(code) + ")";
  };
  EXPECT_EQ(this->accounts().hash_clear_otp_codes(hash), 1u);
  EXPECT_EQ(this->stores().clear_otp_code("sub-1"), std::nullopt);
  EXPECT_EQ(this->accounts().find("sub-1")->otp_hash, "hash(sub-1,424242)");
  EXPECT_EQ(this->accounts().find("sub-2")->otp_hash, std::nullopt);
  // Nothing left in clear: a second pass changes nothing.
  EXPECT_EQ(this->accounts().hash_clear_otp_codes(hash), 0u);
  EXPECT_EQ(this->accounts().find("sub-1")->otp_hash, "hash(sub-1,424242)");
}

TYPED_TEST_P(StoreContract, AccountFindByEmailIgnoresCase) {
  const auto account = make_account("sub-1", "ada@example.com");
  ASSERT_TRUE(this->accounts().insert(account));
  EXPECT_EQ(this->accounts().find_by_email("Ada@Example.COM"), account);
  EXPECT_EQ(this->accounts().find_by_email("ADA@EXAMPLE.COM"), account);
}

TYPED_TEST_P(StoreContract, AccountFoundByPhoneAndByTheDigestOfItsEmail) {
  auto older = make_account("sub-1", "Ada@Example.com");
  older.phone = "+14155550100";
  older.created_at = 10;
  auto newer = make_account("sub-2", "grace@example.com");
  newer.phone = "+14155550100";
  newer.created_at = 20;
  ASSERT_TRUE(this->accounts().insert(newer));
  ASSERT_TRUE(this->accounts().insert(older));
  // Several accounts may share a phone: the oldest answers.
  EXPECT_EQ(this->accounts().find_by_phone("+14155550100")->sub, "sub-1");
  EXPECT_FALSE(this->accounts().find_by_phone("+14155550199"));
  // The digest is of the lower-case email (Bolt's sha256_email), written with the row.
  EXPECT_EQ(this->accounts().find_by_email_sha256(store::common::email_sha256_hex("ada@example.com"))->sub, "sub-1");
  // A known answer (`printf ada@example.com | sha256sum`).
  EXPECT_EQ(store::common::email_sha256_hex("ada@example.com"),
            "b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72");
  EXPECT_FALSE(this->accounts().find_by_email_sha256(std::string(64, '0')));
  EXPECT_EQ(this->accounts().fill_email_sha256(), 0u) << "nothing written without it";
}

TYPED_TEST_P(StoreContract, AccountDuplicateSubOrEmailIsRejected) {
  const auto account = make_account("sub-1", "ada@example.com");
  ASSERT_TRUE(this->accounts().insert(account));
  EXPECT_FALSE(this->accounts().insert(make_account("sub-1", "other@example.com")));
  EXPECT_FALSE(this->accounts().insert(make_account("sub-2", "ada@example.com")));
  EXPECT_FALSE(this->accounts().insert(make_account("sub-3", "ADA@example.com")));
  EXPECT_EQ(this->accounts().find("sub-1"), account);
  EXPECT_EQ(this->accounts().find("sub-2"), std::nullopt);
  EXPECT_EQ(this->accounts().find("sub-3"), std::nullopt);
  EXPECT_EQ(this->accounts().find_by_email("other@example.com"), std::nullopt);
}

TYPED_TEST_P(StoreContract, AccountUpdateProfile) {
  auto account = make_account("sub-1", "ada@example.com");
  ASSERT_TRUE(this->accounts().insert(account));

  ASSERT_TRUE(this->accounts().update_profile("sub-1", std::string("Grace"), std::nullopt, t0 + 10));
  account.first_name = "Grace";
  account.updated_at = t0 + 10;
  EXPECT_EQ(this->accounts().find("sub-1"), account);

  ASSERT_TRUE(this->accounts().update_profile("sub-1", std::nullopt, std::string("Hopper"), t0 + 20));
  account.last_name = "Hopper";
  account.updated_at = t0 + 20;
  EXPECT_EQ(this->accounts().find("sub-1"), account);

  ASSERT_TRUE(this->accounts().update_profile("sub-1", std::string("A"), std::string("B"), t0 + 30));
  account.first_name = "A";
  account.last_name = "B";
  account.updated_at = t0 + 30;
  EXPECT_EQ(this->accounts().find("sub-1"), account);

  EXPECT_FALSE(this->accounts().update_profile("sub-9", std::string("X"), std::nullopt, t0 + 40));
}

// --- grants: rows ----------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, GrantInsertFindRoundTripsEveryField) {
  const auto pending = make_grant("a", TestFixture::client_id, t0);
  const auto id = this->grants().insert_grant(pending);
  auto expected = pending;
  expected.id = id;
  EXPECT_EQ(this->grants().find_grant(id), expected);

  // Every optional set, booleans true, the other kind: the store keeps what it is given.
  core::model::Grant full = make_grant("b", TestFixture::client_id, t0);
  full.id = 999'999;  // ignored
  full.kind = core::model::GrantKind::client_credentials;
  full.redeemed_at = t0 + 1;
  full.generation = 7;
  full.rotated_at = t0 + 2;
  full.replayed = true;
  full.access_floor = 6;
  full.expires_at = t0 + 3;
  full.revoked_at = t0 + 4;
  const auto full_id = this->grants().insert_grant(full);
  EXPECT_NE(full_id, 999'999);
  full.id = full_id;
  EXPECT_EQ(this->grants().find_grant(full_id), full);

  EXPECT_EQ(this->grants().find_grant(full_id + 1000), std::nullopt);
  EXPECT_EQ(this->grants().find_grant(0), std::nullopt);
}

TYPED_TEST_P(StoreContract, GrantIdsIncreaseAndAreNeverReusedAfterPurge) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(this->grants().insert_grant(make_grant("g", TestFixture::client_id, t0)));
  EXPECT_GT(ids[0], 0);
  EXPECT_LT(ids[0], ids[1]);
  EXPECT_LT(ids[1], ids[2]);
  // The newest row goes (revoked, then purged): its id must not come back, or its tokens would name a new grant.
  this->grants().revoke_grant(ids[2], t0 + 1);
  this->grants().revoke_grant(ids[1], t0 + 1);
  core::run_janitor(this->purge(), t0 + 2, 100);
  ASSERT_EQ(this->grants().find_grant(ids[2]), std::nullopt);
  this->reopen();  // not even after a restart
  const auto next = this->grants().insert_grant(make_grant("h", TestFixture::client_id, t0));
  EXPECT_GT(next, ids[2]);
}

TYPED_TEST_P(StoreContract, ClientRemoveDeletesItsGrants) {
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  const auto removed = this->active_grant("a", "client-b");
  const auto pending = this->grants().insert_grant(make_grant("p", "client-b", t0));
  const auto cc = this->grants().client_grant("client-b", t0, 7).id;
  const auto kept = this->active_grant("b");  // client-a's grant must survive

  ASSERT_TRUE(this->clients().remove("client-b"));
  EXPECT_EQ(this->grants().find_grant(removed), std::nullopt);
  EXPECT_EQ(this->grants().find_grant(pending), std::nullopt);
  EXPECT_EQ(this->grants().find_grant(cc), std::nullopt);
  EXPECT_EQ(this->grants().rotate(removed, 1, t0 + 2, t0 + 100), ConsumeOutcome::lost);
  EXPECT_TRUE(this->grants().find_grant(kept).has_value());
}

// --- redemption ------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, RedeemIsConsumedOnceThenLost) {
  const auto id = this->grants().insert_grant(make_grant("a", TestFixture::client_id, t0));
  ASSERT_EQ(this->grants().redeem(id, t0 + 5, t0 + 500), ConsumeOutcome::consumed);
  auto expected = make_grant("a", TestFixture::client_id, t0);
  expected.id = id;
  expected.redeemed_at = t0 + 5;
  expected.rotated_at = t0 + 5;
  expected.generation = 1;
  expected.expires_at = t0 + 500;
  EXPECT_EQ(this->grants().find_grant(id), expected);
  EXPECT_EQ(this->grants().redeem(id, t0 + 6, t0 + 600), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(id), expected);  // the loss wrote nothing
}

TYPED_TEST_P(StoreContract, RedeemLostWhenExpiredRevokedOrUnknown) {
  const auto expired = this->grants().insert_grant(make_grant("a", TestFixture::client_id, t0));
  const auto before = this->grants().find_grant(expired);
  EXPECT_EQ(this->grants().redeem(expired, t0 + 60, t0 + 500), ConsumeOutcome::lost);  // code_expires_at is t0+60
  EXPECT_EQ(this->grants().find_grant(expired), before);
  EXPECT_EQ(this->grants().redeem(expired, t0 + 59, t0 + 500), ConsumeOutcome::consumed);  // still valid just before

  const auto revoked = this->grants().insert_grant(make_grant("b", TestFixture::client_id, t0));
  this->grants().revoke_grant(revoked, t0 + 1);
  EXPECT_EQ(this->grants().redeem(revoked, t0 + 2, t0 + 500), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(revoked).value().generation, 0);

  EXPECT_EQ(this->grants().redeem(revoked + 1000, t0 + 2, t0 + 500), ConsumeOutcome::lost);
}

TYPED_TEST_P(StoreContract, ConcurrentRedeemHasExactlyOneWinner) {
  for (int round = 0; round < 5; ++round) {
    const auto id = this->grants().insert_grant(make_grant("r" + std::to_string(round), TestFixture::client_id, t0));
    const auto result = race(16, [&](int thread) { return this->grants().redeem(id, t0 + 1 + thread, t0 + 500); });
    EXPECT_EQ(result.consumed, 1) << "round " << round;
    EXPECT_EQ(result.lost, 15) << "round " << round;
    EXPECT_EQ(result.errors, 0);
    EXPECT_EQ(this->grants().find_grant(id).value().generation, 1);
  }
}

// --- rotation --------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, RotateIsSingleUseByGeneration) {
  const auto id = this->active_grant("a");
  ASSERT_EQ(this->grants().rotate(id, 1, t0 + 10, t0 + 1000), ConsumeOutcome::consumed);
  auto g = this->grants().find_grant(id).value();
  EXPECT_EQ(g.generation, 2);
  EXPECT_EQ(g.rotated_at, t0 + 10);
  EXPECT_EQ(g.expires_at, t0 + 1000);
  EXPECT_FALSE(g.replayed);
  EXPECT_EQ(g.redeemed_at, t0 + 1);                                                   // unchanged
  EXPECT_EQ(this->grants().rotate(id, 1, t0 + 11, t0 + 1100), ConsumeOutcome::lost);  // stale generation
  EXPECT_EQ(this->grants().rotate(id, 3, t0 + 11, t0 + 1100), ConsumeOutcome::lost);  // future generation
  EXPECT_EQ(this->grants().find_grant(id), g);
  ASSERT_EQ(this->grants().rotate(id, 2, t0 + 12, t0 + 1200), ConsumeOutcome::consumed);
  EXPECT_EQ(this->grants().find_grant(id).value().generation, 3);
}

TYPED_TEST_P(StoreContract, RotateLostWhenRevokedPendingOrUnknown) {
  const auto revoked = this->active_grant("a");
  this->grants().revoke_grant(revoked, t0 + 2);
  EXPECT_EQ(this->grants().rotate(revoked, 1, t0 + 3, t0 + 1000), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(revoked).value().generation, 1);

  const auto pending = this->grants().insert_grant(make_grant("b", TestFixture::client_id, t0));
  EXPECT_EQ(this->grants().rotate(pending, 0, t0 + 3, t0 + 1000), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(pending).value().generation, 0);

  EXPECT_EQ(this->grants().rotate(pending + 1000, 1, t0 + 3, t0 + 1000), ConsumeOutcome::lost);
}

TYPED_TEST_P(StoreContract, ConcurrentRotateHasExactlyOneWinner) {
  const auto id = this->active_grant("a");
  for (int generation = 1; generation <= 5; ++generation) {
    const auto result =
        race(16, [&](int thread) { return this->grants().rotate(id, generation, t0 + 10 + thread, t0 + 1000); });
    EXPECT_EQ(result.consumed, 1) << "generation " << generation;
    EXPECT_EQ(result.lost, 15) << "generation " << generation;
    EXPECT_EQ(result.errors, 0);
    EXPECT_EQ(this->grants().find_grant(id).value().generation, generation + 1);
  }
}

// --- grace replay ----------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, ReplayOfThePreviousGenerationWithinTheWindowOnce) {
  const auto id = this->active_grant("a");
  ASSERT_EQ(this->grants().rotate(id, 1, t0 + 10, t0 + 1000), ConsumeOutcome::consumed);  // now generation 2
  // The holder of generation 1 comes back: the core passes the current generation (2) and the window start.
  EXPECT_EQ(this->grants().replay(id, 2, t0 + 11, t0 + 12, t0 + 2000), ConsumeOutcome::lost);  // window missed
  ASSERT_EQ(this->grants().replay(id, 2, t0 + 10, t0 + 12, t0 + 2000), ConsumeOutcome::consumed);
  const auto g = this->grants().find_grant(id).value();
  EXPECT_EQ(g.generation, 3);
  EXPECT_EQ(g.access_floor, 3);  // access tokens of generations 1 and 2 die
  EXPECT_TRUE(g.replayed);
  EXPECT_EQ(g.rotated_at, t0 + 12);
  EXPECT_EQ(g.expires_at, t0 + 2000);
  // Only once: a second replay at the new generation is refused until a normal rotation happened.
  EXPECT_EQ(this->grants().replay(id, 3, t0, t0 + 13, t0 + 2000), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(id), g);
  // A normal rotation resets the allowance; the floor stays.
  ASSERT_EQ(this->grants().rotate(id, 3, t0 + 14, t0 + 3000), ConsumeOutcome::consumed);
  const auto rotated = this->grants().find_grant(id).value();
  EXPECT_FALSE(rotated.replayed);
  EXPECT_EQ(rotated.access_floor, 3);
  EXPECT_EQ(this->grants().replay(id, 4, t0 + 14, t0 + 15, t0 + 3000), ConsumeOutcome::consumed);
}

TYPED_TEST_P(StoreContract, ReplayLostAfterAFurtherRotationOrOnARevokedGrant) {
  const auto id = this->active_grant("a");
  ASSERT_EQ(this->grants().rotate(id, 1, t0 + 10, t0 + 1000), ConsumeOutcome::consumed);
  ASSERT_EQ(this->grants().rotate(id, 2, t0 + 11, t0 + 1000), ConsumeOutcome::consumed);
  // The caller saw generation 2 current; it is 3 by now: the replay of generation 1 is reuse, not grace.
  EXPECT_EQ(this->grants().replay(id, 2, t0, t0 + 12, t0 + 2000), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(id).value().access_floor, 0);

  this->grants().revoke_grant(id, t0 + 13);
  EXPECT_EQ(this->grants().replay(id, 3, t0, t0 + 14, t0 + 2000), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(id).value().generation, 3);

  const auto pending = this->grants().insert_grant(make_grant("b", TestFixture::client_id, t0));
  EXPECT_EQ(this->grants().replay(pending, 0, t0, t0 + 14, t0 + 2000), ConsumeOutcome::lost);  // never rotated
}

TYPED_TEST_P(StoreContract, ConcurrentReplayHasExactlyOneWinner) {
  const auto id = this->active_grant("a");
  ASSERT_EQ(this->grants().rotate(id, 1, t0 + 10, t0 + 1000), ConsumeOutcome::consumed);
  const auto result =
      race(16, [&](int thread) { return this->grants().replay(id, 2, t0 + 10, t0 + 11 + thread, t0 + 2000); });
  EXPECT_EQ(result.consumed, 1);
  EXPECT_EQ(result.lost, 15);
  EXPECT_EQ(this->grants().find_grant(id).value().generation, 3);
}

// --- revocation and the deny list ------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, RevokeGrantIsIdempotentAndKeepsTheFirstTime) {
  const auto id = this->active_grant("a");
  this->grants().revoke_grant(id, t0 + 5);
  this->grants().revoke_grant(id, t0 + 9);
  auto g = this->grants().find_grant(id).value();
  EXPECT_EQ(g.revoked_at, t0 + 5);
  EXPECT_EQ(g.generation, 1);                      // nothing else changes
  this->grants().revoke_grant(id + 1000, t0 + 5);  // unknown: no-op
  EXPECT_EQ(this->grants().find_grant(id + 1000), std::nullopt);
}

TYPED_TEST_P(StoreContract, DenyListIsPerGrantAndJtiAndIdempotent) {
  const auto id = this->active_grant("a");
  const std::uint64_t jti = 0xfedc'ba98'7654'3210ULL;  // the top bit set: the full 64 bits must survive
  EXPECT_FALSE(this->grants().is_denied(id, jti));
  this->grants().deny_token(id, jti, t0 + 3600);
  this->grants().deny_token(id, jti, t0 + 7200);  // idempotent
  EXPECT_TRUE(this->grants().is_denied(id, jti));
  EXPECT_FALSE(this->grants().is_denied(id, jti ^ 1));
  EXPECT_FALSE(this->grants().is_denied(id + 1, jti));
  this->grants().deny_token(id, 1, t0 + 3600);
  EXPECT_TRUE(this->grants().is_denied(id, 1));
  EXPECT_TRUE(this->grants().is_denied(id, jti));
}

TYPED_TEST_P(StoreContract, GrantForTokenReadsDenyListAndAccountAtOnce) {
  const auto id = this->active_grant("a");  // sub "sub-of-a"
  const std::uint64_t jti = 0x8000'0000'0000'0001ULL;
  auto view = this->grants().find_grant_for_token(id, jti).value();
  EXPECT_EQ(view.grant, this->grants().find_grant(id).value());
  EXPECT_FALSE(view.denied);
  EXPECT_FALSE(view.account_exists) << "no account with that sub yet";
  auto account = make_account("sub-of-a", "a@example.com");
  account.deactivate_at = t0 + 99;
  ASSERT_TRUE(this->accounts().insert(account));
  this->grants().deny_token(id, jti, t0 + 3600);
  view = this->grants().find_grant_for_token(id, jti).value();
  EXPECT_TRUE(view.denied);
  EXPECT_TRUE(view.account_exists);
  EXPECT_EQ(view.account_deactivate_at, t0 + 99);
  EXPECT_FALSE(this->grants().find_grant_for_token(id, jti ^ 1).value().denied);
  EXPECT_EQ(this->grants().find_grant_for_token(id + 1000, jti), std::nullopt);
}

// --- client_credentials ----------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, ClientGrantIsCreatedOnceActiveWithoutExpiry) {
  const auto created = this->grants().client_grant(TestFixture::client_id, t0, 0xdead'beefU);
  const auto id = created.id;
  EXPECT_EQ(created.salt, 0xdead'beefU);
  EXPECT_EQ(this->grants().client_grant(TestFixture::client_id, t0 + 50, 1), created) << "found: its own salt";
  const auto g = this->grants().find_grant(id).value();
  EXPECT_EQ(g, created);
  EXPECT_EQ(g.kind, core::model::GrantKind::client_credentials);
  EXPECT_EQ(g.client_id, TestFixture::client_id);
  EXPECT_EQ(g.sub, TestFixture::client_id);
  EXPECT_EQ(g.generation, 1);
  EXPECT_TRUE(g.redeemed_at.has_value());
  EXPECT_EQ(g.expires_at, std::nullopt);
  EXPECT_EQ(g.revoked_at, std::nullopt);
  // Other grants of the client do not count, and each client has its own.
  this->active_grant("a");
  EXPECT_EQ(this->grants().client_grant(TestFixture::client_id, t0 + 60, 2).id, id);
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  const auto other = this->grants().client_grant("client-b", t0, 3).id;
  EXPECT_NE(other, id);
  // Purge never removes it (it has no end).
  core::run_janitor(this->purge(), t0 + 10 * 365 * 86400, 100);
  EXPECT_EQ(this->grants().find_grant(id), g);
}

TYPED_TEST_P(StoreContract, ConcurrentFirstClientGrantCallsAgree) {
  for (int round = 0; round < 5; ++round) {
    const std::string client = "client-r" + std::to_string(round);
    ASSERT_TRUE(this->clients().insert(make_client(client)));
    std::vector<std::int64_t> ids(16, 0);
    race(16, [&](int thread) {
      ids[static_cast<std::size_t>(thread)] =
          this->grants().client_grant(client, t0, static_cast<std::uint32_t>(thread)).id;
      return ConsumeOutcome::consumed;
    });
    for (const auto id : ids) EXPECT_EQ(id, ids[0]) << client;
    EXPECT_GT(ids[0], 0);
  }
}

// --- durability ------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, DataSurvivesReopen) {
  const auto account = make_account("sub-1", "ada@example.com");
  ASSERT_TRUE(this->accounts().insert(account));
  const auto active = this->active_grant("a");
  ASSERT_EQ(this->grants().rotate(active, 1, t0 + 10, t0 + 1000), ConsumeOutcome::consumed);
  const auto pending = this->grants().insert_grant(make_grant("p", TestFixture::client_id, t0));
  this->grants().deny_token(active, 42, t0 + 3600);
  const auto before_active = this->grants().find_grant(active);
  const auto before_pending = this->grants().find_grant(pending);

  this->reopen();

  EXPECT_EQ(this->clients().find(TestFixture::client_id), make_client(TestFixture::client_id));
  EXPECT_EQ(this->accounts().find("sub-1"), account);
  EXPECT_EQ(this->grants().find_grant(active), before_active);
  EXPECT_EQ(this->grants().find_grant(pending), before_pending);
  EXPECT_TRUE(this->grants().is_denied(active, 42));
  // Single use survives the restart too.
  EXPECT_EQ(this->grants().rotate(active, 1, t0 + 20, t0 + 1000), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().rotate(active, 2, t0 + 20, t0 + 1000), ConsumeOutcome::consumed);
}

TYPED_TEST_P(StoreContract, ReopenIsIdempotent) {
  this->reopen();
  this->reopen();
  EXPECT_EQ(this->clients().list().size(), 1u);
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  this->reopen();
  EXPECT_EQ(this->clients().list().size(), 2u);
  EXPECT_FALSE(this->clients().insert(make_client("client-b")));
}

// --- janitor (PurgeStore) ---------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, PurgeRemovesPendingGrantsOnlyOnceTheirCodeExpired) {
  const auto pending = this->grants().insert_grant(make_grant("a", TestFixture::client_id, t0));  // code until t0+60
  auto counts = core::run_janitor(this->purge(), t0 + 59, 100);
  EXPECT_EQ(counts.total(), 0);
  EXPECT_TRUE(this->grants().find_grant(pending).has_value());
  counts = core::run_janitor(this->purge(), t0 + 60, 100);
  EXPECT_EQ(counts.codes, 1);
  EXPECT_EQ(counts.grants, 0);
  EXPECT_FALSE(counts.more);
  EXPECT_EQ(this->grants().find_grant(pending), std::nullopt);
}

TYPED_TEST_P(StoreContract, PurgeRemovesExpiredAndRevokedGrantsButNeverALiveOne) {
  const auto live = this->active_grant("live");  // expires at t0 + 30 days
  const auto expiring = this->grants().insert_grant(make_grant("e", TestFixture::client_id, t0));
  ASSERT_EQ(this->grants().redeem(expiring, t0 + 1, t0 + 100), ConsumeOutcome::consumed);
  const auto revoked = this->active_grant("r");
  this->grants().revoke_grant(revoked, t0 + 50);
  const auto cc = this->grants().client_grant(TestFixture::client_id, t0, 9).id;
  const auto pending = this->grants().insert_grant(make_grant("p", TestFixture::client_id, t0 + 90));  // until t0+150

  auto counts = core::run_janitor(this->purge(), t0 + 99, 100);
  EXPECT_EQ(counts.grants, 1);  // the revoked one
  EXPECT_EQ(this->grants().find_grant(revoked), std::nullopt);
  EXPECT_TRUE(this->grants().find_grant(expiring).has_value());

  counts = core::run_janitor(this->purge(), t0 + 100, 100);
  EXPECT_EQ(counts.grants, 1);  // expires_at <= now: nothing it issued is valid any more
  EXPECT_EQ(counts.codes, 0);
  EXPECT_EQ(this->grants().find_grant(expiring), std::nullopt);

  for (const auto id : {live, cc, pending}) EXPECT_TRUE(this->grants().find_grant(id).has_value()) << id;
  // A rotated grant lives by its newest expires_at, not its first.
  ASSERT_EQ(this->grants().rotate(live, 1, t0 + 200, t0 + TestFixture::refresh_lifetime + 500),
            ConsumeOutcome::consumed);
  core::run_janitor(this->purge(), t0 + TestFixture::refresh_lifetime + 499, 100);
  EXPECT_TRUE(this->grants().find_grant(live).has_value());
  core::run_janitor(this->purge(), t0 + TestFixture::refresh_lifetime + 500, 100);
  EXPECT_EQ(this->grants().find_grant(live), std::nullopt);
}

TYPED_TEST_P(StoreContract, PurgeRemovesExpiredDenyListEntries) {
  const auto id = this->active_grant("a");
  this->grants().deny_token(id, 1, t0 + 100);
  this->grants().deny_token(id, 2, t0 + 200);
  auto counts = core::run_janitor(this->purge(), t0 + 100, 100);
  EXPECT_EQ(counts.denied_tokens, 1);
  EXPECT_FALSE(this->grants().is_denied(id, 1));
  EXPECT_TRUE(this->grants().is_denied(id, 2));
}

TYPED_TEST_P(StoreContract, PurgeScansGrantsInBatchesWrapsAndReportsMore) {
  // 25 purgeable grants between live ones; batches examine 10 rows each.
  std::vector<std::int64_t> live;
  std::vector<std::int64_t> dead;
  for (int i = 0; i < 40; ++i) {
    if (i % 8 == 0) {
      live.push_back(this->active_grant("l" + std::to_string(i)));
    } else if (dead.size() < 25) {
      const auto id = this->active_grant("d" + std::to_string(i));
      this->grants().revoke_grant(id, t0 + 2);
      dead.push_back(id);
    } else {
      live.push_back(this->active_grant("l" + std::to_string(i)));
    }
  }
  const base::UnixSeconds now = t0 + 10;
  std::int64_t purged = 0;
  int batches = 0;
  for (;;) {
    const auto counts = this->purge().purge_batch(now, 10);
    purged += counts.grants;
    ++batches;
    ASSERT_LE(counts.grants, 10);  // at most `limit` rows examined
    if (!counts.more) break;
    ASSERT_LT(batches, 100) << "purge never finished its pass";
  }
  EXPECT_EQ(purged, 25);
  EXPECT_GE(batches, 4);  // 40 rows, 10 per batch
  for (const auto id : dead) EXPECT_EQ(this->grants().find_grant(id), std::nullopt) << id;
  for (const auto id : live) EXPECT_TRUE(this->grants().find_grant(id).has_value()) << id;

  // The next pass starts over from the first id: a grant revoked behind the cursor is found.
  this->grants().revoke_grant(live.front(), t0 + 20);
  const auto again = core::run_janitor(this->purge(), t0 + 30, 10);
  EXPECT_EQ(again.grants, 1);
  EXPECT_FALSE(again.more);
  EXPECT_EQ(this->grants().find_grant(live.front()), std::nullopt);
  // Nothing left: a pass over the rest purges nothing and ends.
  EXPECT_EQ(core::run_janitor(this->purge(), t0 + 30, 10).total(), 0);
}

TYPED_TEST_P(StoreContract, PurgeIsIdempotentAndKeepsEverythingLiveAtNow) {
  for (int i = 0; i < 5; ++i) this->active_grant("a" + std::to_string(i));
  const auto pending = this->grants().insert_grant(make_grant("p", TestFixture::client_id, t0));
  for (int i = 0; i < 3; ++i) {
    const auto counts = core::run_janitor(this->purge(), t0 + 30, 2);
    EXPECT_EQ(counts.total(), 0) << i;
    EXPECT_FALSE(counts.more);
  }
  EXPECT_TRUE(this->grants().find_grant(pending).has_value());
}

// --- login requests and sessions (LoginStore) -------------------------------------------------------------------

TYPED_TEST_P(StoreContract, LoginRequestsRoundTripAndSetOtpResetsAttempts) {
  const auto r = this->login_request("r1");
  this->logins().insert_request(r);
  EXPECT_EQ(this->logins().find_request("r1"), r);
  EXPECT_FALSE(this->logins().find_request("r2"));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "otp-hash", 110, 710));
  ASSERT_TRUE(this->logins().claim_attempt("r1", "otp-hash", 120, 5));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "otp-hash-2", 150, 750));
  const auto after = this->logins().find_request("r1");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->email, "a@example.com");
  EXPECT_EQ(after->otp_hash, "otp-hash-2");
  EXPECT_EQ(after->otp_sent_at, 150);
  EXPECT_EQ(after->otp_expires_at, 750);
  EXPECT_EQ(after->attempts, 0);
  EXPECT_FALSE(this->logins().set_otp("nope", "a@example.com", "h", 1, 2));
}

TYPED_TEST_P(StoreContract, LoginClaimAttemptStopsAtTheLimitExpiryAndWithoutACode) {
  this->logins().insert_request(this->login_request("r1"));
  EXPECT_FALSE(this->logins().claim_attempt("r1", "h", 120, 5));  // no code sent yet
  EXPECT_FALSE(this->logins().claim_attempt("r1", "", 120, 5));   // not even with the empty "no code" value
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "h", 110, 710));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(this->logins().claim_attempt("r1", "h", 120, 5)) << i;
  EXPECT_FALSE(this->logins().claim_attempt("r1", "h", 120, 5));
  EXPECT_EQ(this->logins().find_request("r1").value().attempts, 5);
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "h", 110, 710));
  EXPECT_FALSE(this->logins().claim_attempt("r1", "h", 710, 5));  // expired
  EXPECT_TRUE(this->logins().claim_attempt("r1", "h", 709, 5));
}

TYPED_TEST_P(StoreContract, LoginConcurrentGuessesNeverExceedTheLimit) {
  this->logins().insert_request(this->login_request("r1"));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "h", 110, 710));
  std::atomic<int> granted{0};
  const auto result = race(8, [&](int) {
    for (int i = 0; i < 5; ++i) granted += this->logins().claim_attempt("r1", "h", 120, 5) ? 1 : 0;
    return ConsumeOutcome::consumed;
  });
  EXPECT_EQ(result.errors, 0);
  EXPECT_EQ(granted.load(), 5);
  EXPECT_EQ(this->logins().find_request("r1").value().attempts, 5);
}

TYPED_TEST_P(StoreContract, LoginAttemptsAndCompletionAreBoundToTheCurrentCode) {
  // A guess that loaded the code before a resend neither spends the new code's attempts nor logs in.
  this->logins().insert_request(this->login_request("r1"));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "old", 110, 710));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(this->logins().claim_attempt("r1", "old", 120, 5));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "new", 130, 730));
  EXPECT_FALSE(this->logins().claim_attempt("r1", "old", 140, 5)) << "the replaced code gets no fresh attempts";
  EXPECT_FALSE(this->logins().consume_request("r1", "old")) << "the replaced code logs no one in";
  EXPECT_TRUE(this->logins().claim_attempt("r1", "new", 140, 5));
  EXPECT_TRUE(this->logins().consume_request("r1", "new"));
}

TYPED_TEST_P(StoreContract, LoginRequestIsConsumedOnceAndGoesWithItsClient) {
  this->logins().insert_request(this->login_request("r1"));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "h", 110, 710));
  EXPECT_TRUE(this->logins().consume_request("r1", "h"));
  EXPECT_FALSE(this->logins().consume_request("r1", "h"));
  EXPECT_FALSE(this->logins().find_request("r1"));
  this->logins().insert_request(this->login_request("r2"));
  ASSERT_TRUE(this->clients().remove(TestFixture::client_id));
  EXPECT_FALSE(this->logins().find_request("r2"));
}

TYPED_TEST_P(StoreContract, LoginConcurrentConsumeHasExactlyOneWinner) {
  this->logins().insert_request(this->login_request("r1"));
  ASSERT_TRUE(this->logins().set_otp("r1", "a@example.com", "h", 110, 710));
  const auto result = race(16, [&](int) {
    return this->logins().consume_request("r1", "h") ? ConsumeOutcome::consumed : ConsumeOutcome::lost;
  });
  EXPECT_EQ(result.consumed, 1);
  EXPECT_EQ(result.lost, 15);
}

TYPED_TEST_P(StoreContract, LoginNewRowsSweepExpiredOnes) {
  auto old = this->login_request("old");
  old.expires_at = 150;
  this->logins().insert_request(old);
  this->logins().insert_session(core::model::LoginSession{"old-s", "sub", 100, 150});
  auto fresh = this->login_request("new");
  fresh.created_at = 200;
  this->logins().insert_request(fresh);
  this->logins().insert_session(core::model::LoginSession{"new-s", "sub", 200, 300});
  EXPECT_FALSE(this->logins().find_request("old"));
  EXPECT_FALSE(this->logins().find_session("old-s"));
  EXPECT_TRUE(this->logins().find_request("new"));
  EXPECT_TRUE(this->logins().find_session("new-s"));
}

TYPED_TEST_P(StoreContract, LoginSessionsRoundTripAndDelete) {
  const core::model::LoginSession s{"sh", "sub-1", 100, 200};
  this->logins().insert_session(s);
  EXPECT_EQ(this->logins().find_session("sh"), s);
  EXPECT_FALSE(this->logins().find_session("other"));
  this->logins().delete_session("sh");
  EXPECT_FALSE(this->logins().find_session("sh"));
  this->logins().delete_session("sh");  // idempotent
}

TYPED_TEST_P(StoreContract, LoginMarkEmailVerified) {
  core::model::Account a;
  a.sub = "sub-1";
  a.email = "a@example.com";
  a.created_at = a.updated_at = 10;
  ASSERT_TRUE(this->accounts().insert(a));
  EXPECT_TRUE(this->logins().mark_email_verified("sub-1", 50));
  const auto after = this->accounts().find("sub-1");
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->email_verified);
  EXPECT_EQ(after->updated_at, 50);
  EXPECT_TRUE(this->logins().mark_email_verified("sub-1", 60));
  EXPECT_EQ(this->accounts().find("sub-1")->updated_at, 50);  // already verified: unchanged
  EXPECT_FALSE(this->logins().mark_email_verified("nobody", 60));
}

TYPED_TEST_P(StoreContract, LoginClientsKeepTheirPkceSetting) {
  auto c = make_client("client-np");
  c.pkce_required = false;
  ASSERT_TRUE(this->clients().insert(c));
  EXPECT_FALSE(this->clients().find("client-np")->pkce_required);
  EXPECT_TRUE(this->clients().find(TestFixture::client_id)->pkce_required);
}

TYPED_TEST_P(StoreContract, LoginJanitorRemovesExpiredLoginRequestsAndSessionsOnly) {
  auto old = this->login_request("old");
  old.expires_at = 500;
  this->logins().insert_request(old);
  this->logins().insert_request(this->login_request("live"));  // expires at 2000
  this->logins().insert_session({"s-old", "sub", 100, 500});
  this->logins().insert_session({"s-live", "sub", 100, 2000});
  EXPECT_EQ(this->purge().purge_batch(499, 500).logins, 0);
  EXPECT_EQ(this->purge().purge_batch(500, 500).logins, 2);
  EXPECT_FALSE(this->logins().find_request("old"));
  EXPECT_FALSE(this->logins().find_session("s-old"));
  EXPECT_TRUE(this->logins().find_request("live"));
  EXPECT_TRUE(this->logins().find_session("s-live"));
  EXPECT_EQ(this->purge().purge_batch(500, 500).logins, 0) << "idempotent";
}

// --- address books ---------------------------------------------------------------------------------------

using AddResult = core::ports::AddressStore::AddResult;
using Book = std::vector<std::string>;

TYPED_TEST_P(StoreContract, AddressAddListFindRoundTripEveryField) {
  this->address_accounts();
  auto first = make_address("addr-1", "sub-1", t0);
  first.updated_at = t0 + 5;
  ASSERT_EQ(this->addresses().add(first, 10), AddResult::added);
  auto second = make_address("addr-2", "sub-1", t0 + 1);
  second.fields = {};  // an empty object survives too
  ASSERT_EQ(this->addresses().add(second, 10), AddResult::added);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1"), first);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-2"), second);
  EXPECT_EQ(this->addresses().list("sub-1"), (std::vector<core::model::Address>{first, second}));
  EXPECT_EQ(this->addresses().find("sub-1", "nope"), std::nullopt);
  EXPECT_TRUE(this->addresses().list("sub-2").empty());
  this->reopen();
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1"), first) << "durable";
}

TYPED_TEST_P(StoreContract, AddressListIsOldestFirstThenById) {
  this->address_accounts();
  this->add_address("c", t0 + 2);
  this->add_address("b", t0 + 1);
  this->add_address("z", t0);
  this->add_address("a", t0 + 1);
  EXPECT_EQ(this->book(), (Book{"z", "a", "b", "c*"}));
}

TYPED_TEST_P(StoreContract, AddressFirstOfABookBecomesTheDefault) {
  this->address_accounts();
  auto first = make_address("addr-1", "sub-1", t0);
  ASSERT_FALSE(first.is_default);
  ASSERT_EQ(this->addresses().add(first, 10), AddResult::added);
  EXPECT_TRUE(first.is_default) << "the caller's copy says so too";
  EXPECT_TRUE(this->addresses().find("sub-1", "addr-1")->is_default);
  auto second = make_address("addr-2", "sub-1", t0 + 1);
  ASSERT_EQ(this->addresses().add(second, 10), AddResult::added);
  EXPECT_FALSE(second.is_default);
  EXPECT_EQ(this->book(), (Book{"addr-1*", "addr-2"}));
  this->add_address("other-1", t0, false, "sub-2");  // each book has its own first address
  EXPECT_EQ(this->book("sub-2"), (Book{"other-1*"}));
}

TYPED_TEST_P(StoreContract, AddressAddedAsDefaultTakesTheFlag) {
  this->address_accounts();
  this->add_address("addr-1", t0);
  this->add_address("other-1", t0, false, "sub-2");
  auto second = make_address("addr-2", "sub-1", t0 + 1);
  second.is_default = true;
  second.updated_at = t0 + 7;
  ASSERT_EQ(this->addresses().add(second, 10), AddResult::added);
  EXPECT_TRUE(second.is_default);
  EXPECT_EQ(this->book(), (Book{"addr-1", "addr-2*"}));
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1")->updated_at, t0 + 7) << "losing the flag is a change";
  EXPECT_EQ(this->book("sub-2"), (Book{"other-1*"})) << "another book keeps its default";
}

TYPED_TEST_P(StoreContract, AddressAddIsFullAtTheLimitAndWritesNothing) {
  this->address_accounts();
  for (int i = 0; i < 3; ++i) {
    auto a = make_address("addr-" + std::to_string(i), "sub-1", t0 + i);
    ASSERT_EQ(this->addresses().add(a, 3), AddResult::added);
  }
  auto extra = make_address("addr-x", "sub-1", t0 + 9);
  extra.is_default = true;
  EXPECT_EQ(this->addresses().add(extra, 3), AddResult::full);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-x"), std::nullopt);
  EXPECT_EQ(this->book(), (Book{"addr-0*", "addr-1", "addr-2"})) << "the default did not move";
  EXPECT_EQ(this->addresses().add(extra, 4), AddResult::added) << "the limit is the caller's";
  auto none = make_address("addr-y", "sub-2", t0);
  EXPECT_EQ(this->addresses().add(none, 0), AddResult::full);
  EXPECT_TRUE(this->addresses().list("sub-2").empty());
}

TYPED_TEST_P(StoreContract, AddressEditKeepsIdAndCreatedAtAndMayMakeItTheDefault) {
  this->address_accounts();
  const auto first = this->add_address("addr-1", t0);
  const auto second = this->add_address("addr-2", t0 + 1);
  const std::map<std::string, std::string> fields{{"street_address1", "2 Other St"}, {"country_code", "DE"}};

  const auto edited = this->addresses().edit("sub-1", "addr-2", fields, std::nullopt, t0 + 50);
  ASSERT_TRUE(edited.has_value());
  auto expected = second;
  expected.fields = fields;
  expected.updated_at = t0 + 50;
  EXPECT_EQ(*edited, expected);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-2"), expected);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1"), first) << "the other address is untouched";

  // false leaves the flags alone: the default cannot be dropped by editing it.
  const auto kept = this->addresses().edit("sub-1", "addr-1", fields, false, t0 + 60);
  ASSERT_TRUE(kept.has_value());
  EXPECT_TRUE(kept->is_default);
  EXPECT_EQ(this->book(), (Book{"addr-1*", "addr-2"}));

  const auto made = this->addresses().edit("sub-1", "addr-2", second.fields, true, t0 + 70);
  ASSERT_TRUE(made.has_value());
  EXPECT_TRUE(made->is_default);
  EXPECT_EQ(made->fields, second.fields);
  EXPECT_EQ(made->created_at, second.created_at);
  EXPECT_EQ(this->book(), (Book{"addr-1", "addr-2*"}));
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1")->updated_at, t0 + 70) << "losing the flag is a change";
  // Making the default the default again changes nothing but the fields.
  ASSERT_TRUE(this->addresses().edit("sub-1", "addr-2", fields, true, t0 + 80).has_value());
  EXPECT_EQ(this->book(), (Book{"addr-1", "addr-2*"}));
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1")->updated_at, t0 + 70);

  EXPECT_EQ(this->addresses().edit("sub-1", "nope", fields, true, t0 + 90), std::nullopt);
  EXPECT_EQ(this->book(), (Book{"addr-1", "addr-2*"}));
}

TYPED_TEST_P(StoreContract, AddressReplaceGivesANewIdAndCarriesTheDefault) {
  this->address_accounts();
  this->add_address("addr-1", t0);
  this->add_address("addr-2", t0 + 1);

  auto replacement = make_address("addr-3", "sub-1", t0 + 10);
  replacement.fields["city"] = "Elsewhere";
  ASSERT_TRUE(this->addresses().replace("sub-1", "addr-1", replacement));
  EXPECT_TRUE(replacement.is_default) << "replacing the default keeps a default";
  EXPECT_EQ(this->addresses().find("sub-1", "addr-1"), std::nullopt);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-3"), replacement);
  EXPECT_EQ(this->book(), (Book{"addr-2", "addr-3*"}));

  auto plain = make_address("addr-4", "sub-1", t0 + 20);
  ASSERT_TRUE(this->addresses().replace("sub-1", "addr-2", plain));
  EXPECT_FALSE(plain.is_default);
  EXPECT_EQ(this->book(), (Book{"addr-3*", "addr-4"}));

  auto as_default = make_address("addr-5", "sub-1", t0 + 30);
  as_default.is_default = true;
  ASSERT_TRUE(this->addresses().replace("sub-1", "addr-4", as_default));
  EXPECT_TRUE(as_default.is_default);
  EXPECT_EQ(this->book(), (Book{"addr-3", "addr-5*"}));

  auto orphan = make_address("addr-6", "sub-1", t0 + 40);
  EXPECT_FALSE(this->addresses().replace("sub-1", "nope", orphan));
  EXPECT_EQ(this->addresses().find("sub-1", "addr-6"), std::nullopt) << "nothing written";
  EXPECT_EQ(this->book(), (Book{"addr-3", "addr-5*"}));
}

TYPED_TEST_P(StoreContract, AddressRemoveOfTheDefaultPromotesTheOldestRemaining) {
  this->address_accounts();
  this->add_address("addr-b", t0 + 1);
  this->add_address("addr-c", t0 + 2);
  this->add_address("addr-a", t0 + 1);
  this->add_address("addr-d", t0 + 3, true);
  EXPECT_EQ(this->book(), (Book{"addr-a", "addr-b", "addr-c", "addr-d*"}));

  ASSERT_TRUE(this->addresses().remove("sub-1", "addr-c", t0 + 100));
  EXPECT_EQ(this->book(), (Book{"addr-a", "addr-b", "addr-d*"})) << "removing another leaves the default";
  EXPECT_FALSE(this->addresses().remove("sub-1", "addr-c", t0 + 100)) << "already gone";

  ASSERT_TRUE(this->addresses().remove("sub-1", "addr-d", t0 + 200));
  EXPECT_EQ(this->book(), (Book{"addr-a*", "addr-b"})) << "oldest by created_at, then id";
  EXPECT_EQ(this->addresses().find("sub-1", "addr-a")->updated_at, t0 + 200);
  EXPECT_EQ(this->addresses().find("sub-1", "addr-b")->updated_at, t0 + 3) << "when addr-d took the flag";

  ASSERT_TRUE(this->addresses().remove("sub-1", "addr-a", t0 + 300));
  ASSERT_TRUE(this->addresses().remove("sub-1", "addr-b", t0 + 300));
  EXPECT_TRUE(this->book().empty());
  this->add_address("addr-e", t0 + 400);
  EXPECT_EQ(this->book(), (Book{"addr-e*"})) << "an emptied book starts over";
}

TYPED_TEST_P(StoreContract, AddressOfAnotherAccountIsInvisible) {
  this->address_accounts();
  const auto mine = this->add_address("addr-1", t0);
  const auto theirs = this->add_address("addr-2", t0, false, "sub-2");
  EXPECT_EQ(this->addresses().find("sub-1", "addr-2"), std::nullopt);
  EXPECT_EQ(this->addresses().edit("sub-1", "addr-2", {{"city", "Mine now"}}, true, t0 + 10), std::nullopt);
  auto replacement = make_address("addr-3", "sub-1", t0 + 10);
  EXPECT_FALSE(this->addresses().replace("sub-1", "addr-2", replacement));
  EXPECT_FALSE(this->addresses().remove("sub-1", "addr-2", t0 + 10));
  EXPECT_EQ(this->addresses().list("sub-2"), std::vector<core::model::Address>{theirs}) << "nothing changed";
  EXPECT_EQ(this->addresses().list("sub-1"), std::vector<core::model::Address>{mine});
}

TYPED_TEST_P(StoreContract, AddressConcurrentAddsKeepTheLimitAndOneDefault) {
  this->address_accounts();
  for (int round = 0; round < 3; ++round) {
    const std::string sub = round == 0 ? "sub-1" : "sub-2";
    if (round == 2) {  // the same book again, emptied
      for (const auto& a : this->addresses().list(sub)) {
        ASSERT_TRUE(this->addresses().remove(sub, a.id, t0));
      }
    }
    const auto result = race(8, [&](int thread) {
      auto a = make_address("r" + std::to_string(round) + "-t" + std::to_string(thread), sub, t0 + thread);
      a.is_default = thread % 2 == 0;
      return this->addresses().add(a, 3) == AddResult::added ? ConsumeOutcome::consumed : ConsumeOutcome::lost;
    });
    EXPECT_EQ(result.errors, 0) << "round " << round;
    EXPECT_EQ(result.consumed, 3) << "round " << round;
    const auto stored = this->addresses().list(sub);
    EXPECT_EQ(stored.size(), 3u) << "round " << round;
    EXPECT_EQ(std::count_if(stored.begin(), stored.end(), [](const auto& a) { return a.is_default; }), 1)
        << "round " << round;
  }
}

// --- Idempotency-Key answers -----------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, IdempotencyClaimFindCompleteRelease) {
  auto& store = this->idempotency();
  EXPECT_EQ(store.find(TestFixture::client_id, "key-1"), std::nullopt);
  ASSERT_TRUE(store.claim(TestFixture::client_id, "key-1", "hash-1", t0));
  auto claimed = store.find(TestFixture::client_id, "key-1");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->request_hash, "hash-1");
  EXPECT_FALSE(claimed->completed);
  EXPECT_EQ(claimed->status, 0);
  EXPECT_EQ(claimed->body, "");
  EXPECT_EQ(claimed->created_at, t0);

  const std::string body = "{\"id\":\"a\\\"b\",\"city\":\"K\u00f8benhavn\",\"empty\":\"\"}\n";
  store.complete(TestFixture::client_id, "key-1", 201, body);
  auto done = store.find(TestFixture::client_id, "key-1");
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->completed);
  EXPECT_EQ(done->status, 201);
  EXPECT_EQ(done->body, body);
  EXPECT_EQ(done->request_hash, "hash-1");
  EXPECT_EQ(done->created_at, t0);

  store.complete(TestFixture::client_id, "key-1", 500, "later");
  EXPECT_EQ(store.find(TestFixture::client_id, "key-1")->status, 201) << "the first answer stays";
  store.release(TestFixture::client_id, "key-1");
  EXPECT_TRUE(store.find(TestFixture::client_id, "key-1").has_value()) << "a completed answer is never released";

  ASSERT_TRUE(store.claim(TestFixture::client_id, "key-2", "hash-2", t0));
  store.release(TestFixture::client_id, "key-2");
  EXPECT_EQ(store.find(TestFixture::client_id, "key-2"), std::nullopt);
  EXPECT_TRUE(store.claim(TestFixture::client_id, "key-2", "hash-3", t0 + 1)) << "a released key is free again";
  EXPECT_EQ(store.find(TestFixture::client_id, "key-2")->request_hash, "hash-3");
  this->reopen();
  EXPECT_EQ(this->idempotency().find(TestFixture::client_id, "key-1")->body, body) << "durable";
}

TYPED_TEST_P(StoreContract, IdempotencySecondClaimLosesAndKeysArePerClient) {
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  auto& store = this->idempotency();
  ASSERT_TRUE(store.claim(TestFixture::client_id, "key-1", "hash-1", t0));
  EXPECT_FALSE(store.claim(TestFixture::client_id, "key-1", "hash-other", t0 + 1));
  EXPECT_EQ(store.find(TestFixture::client_id, "key-1")->request_hash, "hash-1") << "the loser wrote nothing";
  EXPECT_EQ(store.find(TestFixture::client_id, "key-1")->created_at, t0);

  EXPECT_EQ(store.find("client-b", "key-1"), std::nullopt);
  ASSERT_TRUE(store.claim("client-b", "key-1", "hash-b", t0 + 2)) << "same key, other client";
  store.complete("client-b", "key-1", 200, "b");
  EXPECT_FALSE(store.find(TestFixture::client_id, "key-1")->completed) << "completing b's key leaves a's alone";
  store.release(TestFixture::client_id, "key-1");
  EXPECT_EQ(store.find("client-b", "key-1")->body, "b") << "releasing a's key leaves b's alone";
  EXPECT_EQ(store.find(TestFixture::client_id, "KEY-1"), std::nullopt) << "keys are exact";

  ASSERT_TRUE(this->clients().remove("client-b"));
  EXPECT_EQ(store.find("client-b", "key-1"), std::nullopt) << "a client's keys go with it";
}

TYPED_TEST_P(StoreContract, IdempotencyConcurrentClaimsHaveExactlyOneWinner) {
  for (int round = 0; round < 5; ++round) {
    const std::string key = "key-" + std::to_string(round);
    const auto result = race(8, [&](int thread) {
      return this->idempotency().claim(TestFixture::client_id, key, "hash-" + std::to_string(thread), t0)
                 ? ConsumeOutcome::consumed
                 : ConsumeOutcome::lost;
    });
    EXPECT_EQ(result.consumed, 1) << key;
    EXPECT_EQ(result.lost, 7) << key;
    EXPECT_EQ(result.errors, 0) << key;
  }
}

TYPED_TEST_P(StoreContract, IdempotencyPurgeRemovesRecordsOlderThanADay) {
  constexpr base::UnixSeconds day = core::ports::idempotency_key_lifetime;
  static_assert(day == 86400);
  auto& store = this->idempotency();
  const base::UnixSeconds now = t0 + 10 * day;
  ASSERT_TRUE(store.claim(TestFixture::client_id, "old-done", "h", now - day - 100));
  store.complete(TestFixture::client_id, "old-done", 200, "{}");
  ASSERT_TRUE(store.claim(TestFixture::client_id, "old-claimed", "h", now - day - 50));
  ASSERT_TRUE(store.claim(TestFixture::client_id, "exactly-a-day", "h", now - day));
  ASSERT_TRUE(store.claim(TestFixture::client_id, "young", "h", now - day + 1));
  store.complete(TestFixture::client_id, "young", 200, "{}");

  const auto first = this->purge().purge_batch(now, 2);
  EXPECT_EQ(first.idempotency_keys, 2);
  EXPECT_TRUE(first.more) << "stopped at its limit";
  const auto second = this->purge().purge_batch(now, 2);
  EXPECT_EQ(second.idempotency_keys, 1);
  EXPECT_FALSE(second.more);
  EXPECT_EQ(first.total() + second.total(), 3);
  for (const char* key : {"old-done", "old-claimed", "exactly-a-day"})
    EXPECT_EQ(store.find(TestFixture::client_id, key), std::nullopt) << key;
  EXPECT_TRUE(store.find(TestFixture::client_id, "young").has_value());
  EXPECT_EQ(this->purge().purge_batch(now, 500).idempotency_keys, 0) << "idempotent";
  EXPECT_EQ(core::run_janitor(this->purge(), now + 1, 500).idempotency_keys, 1) << "a second later it is a day old";
  EXPECT_EQ(store.find(TestFixture::client_id, "young"), std::nullopt);
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreContract, ClientInsertFindRoundTrip, ClientFindUnknownIsEmpty, ClientFindBySecretHash,
    ClientDuplicateIdIsRejected, ClientListReturnsEveryClient, ClientRemoveUnknownReturnsFalse, ClientUpdateSecretHash,
    ClientUpdateRedirectUris, AccountInsertFindRoundTrip, AccountFindByEmailIgnoresCase,
    AccountFoundByPhoneAndByTheDigestOfItsEmail, AccountDuplicateSubOrEmailIsRejected, AccountUpdateProfile,
    GrantInsertFindRoundTripsEveryField, GrantIdsIncreaseAndAreNeverReusedAfterPurge, ClientRemoveDeletesItsGrants,
    RedeemIsConsumedOnceThenLost, RedeemLostWhenExpiredRevokedOrUnknown, ConcurrentRedeemHasExactlyOneWinner,
    RotateIsSingleUseByGeneration, RotateLostWhenRevokedPendingOrUnknown, ConcurrentRotateHasExactlyOneWinner,
    ReplayOfThePreviousGenerationWithinTheWindowOnce, ReplayLostAfterAFurtherRotationOrOnARevokedGrant,
    ConcurrentReplayHasExactlyOneWinner, RevokeGrantIsIdempotentAndKeepsTheFirstTime,
    DenyListIsPerGrantAndJtiAndIdempotent, GrantForTokenReadsDenyListAndAccountAtOnce,
    ClientGrantIsCreatedOnceActiveWithoutExpiry, ConcurrentFirstClientGrantCallsAgree, DataSurvivesReopen,
    ReopenIsIdempotent, PurgeRemovesPendingGrantsOnlyOnceTheirCodeExpired,
    PurgeRemovesExpiredAndRevokedGrantsButNeverALiveOne, PurgeRemovesExpiredDenyListEntries,
    PurgeScansGrantsInBatchesWrapsAndReportsMore, PurgeIsIdempotentAndKeepsEverythingLiveAtNow,
    LoginRequestsRoundTripAndSetOtpResetsAttempts, LoginClaimAttemptStopsAtTheLimitExpiryAndWithoutACode,
    LoginConcurrentGuessesNeverExceedTheLimit, LoginAttemptsAndCompletionAreBoundToTheCurrentCode,
    LoginRequestIsConsumedOnceAndGoesWithItsClient, LoginConcurrentConsumeHasExactlyOneWinner,
    LoginNewRowsSweepExpiredOnes, LoginSessionsRoundTripAndDelete, LoginMarkEmailVerified,
    LoginClientsKeepTheirPkceSetting, LoginJanitorRemovesExpiredLoginRequestsAndSessionsOnly,
    AccountClearOtpCodesBecomeKeyedHashes, AddressAddListFindRoundTripEveryField, AddressListIsOldestFirstThenById,
    AddressFirstOfABookBecomesTheDefault, AddressAddedAsDefaultTakesTheFlag, AddressAddIsFullAtTheLimitAndWritesNothing,
    AddressEditKeepsIdAndCreatedAtAndMayMakeItTheDefault, AddressReplaceGivesANewIdAndCarriesTheDefault,
    AddressRemoveOfTheDefaultPromotesTheOldestRemaining, AddressOfAnotherAccountIsInvisible,
    AddressConcurrentAddsKeepTheLimitAndOneDefault, IdempotencyClaimFindCompleteRelease,
    IdempotencySecondClaimLosesAndKeysArePerClient, IdempotencyConcurrentClaimsHaveExactlyOneWinner,
    IdempotencyPurgeRemovesRecordsOlderThanADay);

}  // namespace boltauth::contract
