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
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/model/account.hpp"
#include "core/model/client.hpp"
#include "core/model/grant.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/client_store.hpp"
#include "core/ports/grant_store.hpp"
#include "core/ports/purge_store.hpp"

namespace boltauth::contract {

/// The three ports of one open connection to a backend.
class StoreSet {
 public:
  virtual ~StoreSet() = default;
  virtual core::ports::ClientStore& clients() = 0;
  virtual core::ports::AccountStore& accounts() = 0;
  virtual core::ports::GrantStore& grants() = 0;
  virtual core::ports::PurgeStore& purge() = 0;
};

// --- builders (store_contract_test.cpp) ------------------------------------------------------------------

/// The suite's "now". Codes live 60 s, access tokens 1 h, refresh tokens 30 days from their issue time.
inline constexpr base::UnixSeconds t0 = 1'800'000'000;

core::model::Client make_client(std::string_view id);
core::model::Account make_account(std::string_view sub, std::string_view email);
/// Every field set to a distinct value; grant_id is "grant-<hash>".
core::model::CodeRecord make_code(std::string_view hash, std::string_view client_id, base::UnixSeconds now);
core::model::GrantRecord make_grant(const core::model::CodeRecord& code, base::UnixSeconds now);
/// Access token "at-<tag>" and, when `with_refresh`, refresh token "rt-<tag>" of `grant`.
core::model::IssuedTokens make_tokens(std::string_view tag, const core::model::GrantRecord& grant,
                                      base::UnixSeconds now, bool with_refresh = true);

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

  /// Closes the connection and opens the same storage again.
  void reopen() {
    stores_.reset();
    stores_ = factory_.open();
  }

  /// One redeemed code of `client`: the grant and the tokens it issued.
  struct Family {
    core::model::CodeRecord code;
    core::model::GrantRecord grant;
    core::model::IssuedTokens tokens;
  };
  Family issue_family(std::string_view tag, std::string_view client = client_id) {
    Family family;
    family.code = make_code("code-" + std::string(tag), client, t0);
    family.grant = make_grant(family.code, t0 + 1);
    family.tokens = make_tokens(tag, family.grant, t0 + 1);
    grants().insert_code(family.code);
    EXPECT_EQ(grants().redeem_code(family.code.hash, t0 + 1, family.grant, family.tokens),
              core::ports::ConsumeOutcome::consumed);
    return family;
  }

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

TYPED_TEST_P(StoreContract, ClientRemoveDeletesItsCodesGrantsAndTokens) {
  ASSERT_TRUE(this->clients().insert(make_client("client-b")));
  const auto removed = this->issue_family("a", "client-b");
  const auto pending = make_code("pending", "client-b", t0);
  this->grants().insert_code(pending);
  const auto kept = this->issue_family("b");  // client-a's family must survive

  ASSERT_TRUE(this->clients().remove("client-b"));
  EXPECT_EQ(this->clients().find("client-b"), std::nullopt);
  EXPECT_EQ(this->grants().find_code(removed.code.hash), std::nullopt);
  EXPECT_EQ(this->grants().find_code(pending.hash), std::nullopt);
  EXPECT_EQ(this->grants().find_grant(removed.grant.id), std::nullopt);
  EXPECT_EQ(this->grants().find_token(removed.tokens.access.hash), std::nullopt);
  EXPECT_EQ(this->grants().find_token(removed.tokens.refresh->hash), std::nullopt);
  // A deleted client's refresh token can no longer be used.
  EXPECT_EQ(
      this->grants().rotate_refresh(removed.tokens.refresh->hash, t0 + 2, make_tokens("x", removed.grant, t0 + 2)),
      ConsumeOutcome::lost);

  EXPECT_TRUE(this->clients().find(TestFixture::client_id).has_value());
  EXPECT_TRUE(this->grants().find_code(kept.code.hash).has_value());
  EXPECT_TRUE(this->grants().find_grant(kept.grant.id).has_value());
  EXPECT_TRUE(this->grants().find_token(kept.tokens.access.hash).has_value());
  EXPECT_TRUE(this->grants().find_token(kept.tokens.refresh->hash).has_value());
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

// --- accounts --------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, AccountInsertFindRoundTrip) {
  auto full = make_account("sub-1", "ada@example.com");
  full.phone = "+14155550100";
  full.phone_verified = true;
  full.otp_code = "123456";
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

TYPED_TEST_P(StoreContract, AccountFindByEmailIgnoresCase) {
  const auto account = make_account("sub-1", "ada@example.com");
  ASSERT_TRUE(this->accounts().insert(account));
  EXPECT_EQ(this->accounts().find_by_email("Ada@Example.COM"), account);
  EXPECT_EQ(this->accounts().find_by_email("ADA@EXAMPLE.COM"), account);
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

// --- codes -----------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, CodeInsertFindRoundTrip) {
  const auto code = make_code("c1", TestFixture::client_id, t0);
  this->grants().insert_code(code);
  EXPECT_EQ(this->grants().find_code("c1"), code);

  auto sandbox = make_code("c2", TestFixture::client_id, t0);  // unbound, no PKCE, no state, already used
  sandbox.redirect_uri.clear();
  sandbox.code_challenge.clear();
  sandbox.state.clear();
  sandbox.nonce.clear();
  sandbox.used_at = t0 + 5;
  this->grants().insert_code(sandbox);
  EXPECT_EQ(this->grants().find_code("c2"), sandbox);
  EXPECT_EQ(this->grants().find_code("c3"), std::nullopt);
}

TYPED_TEST_P(StoreContract, RedeemCodeIsConsumedOnceThenLost) {
  const auto code = make_code("c1", TestFixture::client_id, t0);
  this->grants().insert_code(code);
  const auto grant = make_grant(code, t0 + 1);
  EXPECT_EQ(this->grants().redeem_code("c1", t0 + 1, grant, make_tokens("a", grant, t0 + 1)), ConsumeOutcome::consumed);

  auto used = code;
  used.used_at = t0 + 1;
  EXPECT_EQ(this->grants().find_code("c1"), used);

  auto second_grant = grant;
  second_grant.id = "grant-second";
  EXPECT_EQ(this->grants().redeem_code("c1", t0 + 2, second_grant, make_tokens("b", second_grant, t0 + 2)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_code("c1"), used);  // first use time kept
  EXPECT_EQ(this->grants().find_grant("grant-second"), std::nullopt);
  EXPECT_EQ(this->grants().find_token("at-b"), std::nullopt);
  EXPECT_EQ(this->grants().find_token("rt-b"), std::nullopt);
}

TYPED_TEST_P(StoreContract, RedeemExpiredCodeIsLostAndWritesNothing) {
  const auto code = make_code("c1", TestFixture::client_id, t0);
  this->grants().insert_code(code);
  const auto grant = make_grant(code, code.expires_at);
  // now == expires_at is already too late: the code is valid while now < expires_at.
  EXPECT_EQ(this->grants().redeem_code("c1", code.expires_at, grant, make_tokens("a", grant, code.expires_at)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_code("c1"), code);  // still unused
  EXPECT_EQ(this->grants().find_grant(grant.id), std::nullopt);
  EXPECT_EQ(this->grants().find_token("at-a"), std::nullopt);
  EXPECT_EQ(this->grants().find_token("rt-a"), std::nullopt);

  // One second earlier it is still redeemable.
  EXPECT_EQ(this->grants().redeem_code("c1", code.expires_at - 1, grant, make_tokens("a", grant, code.expires_at - 1)),
            ConsumeOutcome::consumed);
}

TYPED_TEST_P(StoreContract, RedeemUnknownCodeIsLost) {
  const auto code = make_code("c1", TestFixture::client_id, t0);
  const auto grant = make_grant(code, t0 + 1);
  EXPECT_EQ(this->grants().redeem_code("c1", t0 + 1, grant, make_tokens("a", grant, t0 + 1)), ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_grant(grant.id), std::nullopt);
  EXPECT_EQ(this->grants().find_token("at-a"), std::nullopt);
}

TYPED_TEST_P(StoreContract, RedeemedTokensAreFindableWithEveryField) {
  const auto family = this->issue_family("a");
  EXPECT_EQ(this->grants().find_grant(family.grant.id), family.grant);
  EXPECT_EQ(this->grants().find_token(family.tokens.access.hash), family.tokens.access);
  EXPECT_EQ(this->grants().find_token(family.tokens.refresh->hash), *family.tokens.refresh);

  // The optional token fields round-trip when set, too.
  auto code = make_code("c2", TestFixture::client_id, t0);
  this->grants().insert_code(code);
  const auto grant = make_grant(code, t0 + 1);
  auto tokens = make_tokens("b", grant, t0 + 1);
  tokens.access.revoked_at = t0 + 7;
  tokens.refresh->used_at = t0 + 8;
  tokens.refresh->revoked_at = t0 + 9;
  tokens.refresh->next_hash = "rt-next";
  tokens.refresh->replayed = true;
  ASSERT_EQ(this->grants().redeem_code("c2", t0 + 1, grant, tokens), ConsumeOutcome::consumed);
  EXPECT_EQ(this->grants().find_token("at-b"), tokens.access);
  EXPECT_EQ(this->grants().find_token("rt-b"), *tokens.refresh);
  EXPECT_EQ(this->grants().find_token("rt-next"), std::nullopt);
}

TYPED_TEST_P(StoreContract, RedeemWithoutRefreshTokenStoresAccessOnly) {
  const auto code = make_code("c1", TestFixture::client_id, t0);
  this->grants().insert_code(code);
  const auto grant = make_grant(code, t0 + 1);
  const auto tokens = make_tokens("a", grant, t0 + 1, false);
  ASSERT_EQ(this->grants().redeem_code("c1", t0 + 1, grant, tokens), ConsumeOutcome::consumed);
  EXPECT_EQ(this->grants().find_token("at-a"), tokens.access);
  EXPECT_EQ(this->grants().find_token("rt-a"), std::nullopt);
  EXPECT_EQ(this->grants().find_grant(grant.id), grant);
}

// --- refresh tokens --------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, RotateRefreshIsConsumedOnceThenLost) {
  const auto family = this->issue_family("a");
  const auto& old_hash = family.tokens.refresh->hash;
  const auto next = make_tokens("b", family.grant, t0 + 10);
  ASSERT_EQ(this->grants().rotate_refresh(old_hash, t0 + 10, next), ConsumeOutcome::consumed);

  auto rotated = *family.tokens.refresh;
  rotated.used_at = t0 + 10;
  rotated.next_hash = "rt-b";
  EXPECT_EQ(this->grants().find_token(old_hash), rotated);
  EXPECT_EQ(this->grants().find_token("at-b"), next.access);
  EXPECT_EQ(this->grants().find_token("rt-b"), *next.refresh);

  EXPECT_EQ(this->grants().rotate_refresh(old_hash, t0 + 11, make_tokens("c", family.grant, t0 + 11)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_token(old_hash), rotated);
  EXPECT_EQ(this->grants().find_token("at-c"), std::nullopt);
  EXPECT_EQ(this->grants().find_token("rt-c"), std::nullopt);

  // The successor rotates in turn.
  EXPECT_EQ(this->grants().rotate_refresh("rt-b", t0 + 12, make_tokens("d", family.grant, t0 + 12)),
            ConsumeOutcome::consumed);
}

TYPED_TEST_P(StoreContract, RotateRefreshLostWhenGrantRevoked) {
  const auto family = this->issue_family("a");
  this->grants().revoke_grant(family.grant.id, t0 + 5);
  EXPECT_EQ(
      this->grants().rotate_refresh(family.tokens.refresh->hash, t0 + 10, make_tokens("b", family.grant, t0 + 10)),
      ConsumeOutcome::lost);
  auto unchanged = *family.tokens.refresh;
  unchanged.grant_revoked = true;
  EXPECT_EQ(this->grants().find_token(family.tokens.refresh->hash), unchanged);
  EXPECT_EQ(this->grants().find_token("at-b"), std::nullopt);
  EXPECT_EQ(this->grants().find_token("rt-b"), std::nullopt);
}

TYPED_TEST_P(StoreContract, RotateRefreshLostWhenExpiredUnknownOrNotRefresh) {
  const auto family = this->issue_family("a");
  const auto expires_at = family.tokens.refresh->expires_at;
  EXPECT_EQ(this->grants().rotate_refresh(family.tokens.refresh->hash, expires_at,
                                          make_tokens("b", family.grant, expires_at)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().rotate_refresh(family.tokens.access.hash, t0 + 10, make_tokens("c", family.grant, t0 + 10)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().rotate_refresh("rt-unknown", t0 + 10, make_tokens("d", family.grant, t0 + 10)),
            ConsumeOutcome::lost);
  for (const char* hash : {"at-b", "rt-b", "at-c", "rt-c", "at-d", "rt-d"})
    EXPECT_EQ(this->grants().find_token(hash), std::nullopt) << hash;
  EXPECT_EQ(this->grants().find_token(family.tokens.refresh->hash), *family.tokens.refresh);

  EXPECT_EQ(this->grants().rotate_refresh(family.tokens.refresh->hash, expires_at - 1,
                                          make_tokens("e", family.grant, expires_at - 1)),
            ConsumeOutcome::consumed);
}

TYPED_TEST_P(StoreContract, RevokeGrantMarksEveryTokenOfTheFamily) {
  const auto family = this->issue_family("a");
  const auto other = this->issue_family("b");
  this->grants().revoke_grant(family.grant.id, t0 + 5);

  EXPECT_TRUE(this->grants().find_token(family.tokens.access.hash).value().grant_revoked);
  EXPECT_TRUE(this->grants().find_token(family.tokens.refresh->hash).value().grant_revoked);
  auto revoked = family.grant;
  revoked.revoked_at = t0 + 5;
  EXPECT_EQ(this->grants().find_grant(family.grant.id), revoked);

  this->grants().revoke_grant(family.grant.id, t0 + 9);  // idempotent: the first time is kept
  EXPECT_EQ(this->grants().find_grant(family.grant.id), revoked);
  EXPECT_NO_THROW(this->grants().revoke_grant("grant-unknown", t0 + 9));
  EXPECT_EQ(this->grants().find_grant("grant-unknown"), std::nullopt);

  EXPECT_EQ(this->grants().find_token(other.tokens.access.hash), other.tokens.access);
  EXPECT_EQ(this->grants().find_token(other.tokens.refresh->hash), *other.tokens.refresh);
  EXPECT_EQ(this->grants().find_grant(other.grant.id), other.grant);
}

TYPED_TEST_P(StoreContract, InsertGrantStoresGrantAndTokensWithoutACode) {
  core::model::GrantRecord grant{"grant-cc",  std::string(this->client_id), std::string(this->client_id), t0, t0,
                                 std::nullopt};
  const auto tokens = make_tokens("cc", grant, t0, false);
  this->grants().insert_grant(grant, tokens);
  EXPECT_EQ(this->grants().find_grant("grant-cc"), grant);
  EXPECT_EQ(this->grants().find_token(tokens.access.hash), tokens.access);
}

TYPED_TEST_P(StoreContract, RevokeTokenMarksOnlyThatToken) {
  const auto family = this->issue_family("a");
  this->grants().revoke_token(family.tokens.access.hash, t0 + 5);
  auto revoked = family.tokens.access;
  revoked.revoked_at = t0 + 5;
  EXPECT_EQ(this->grants().find_token(family.tokens.access.hash), revoked);
  this->grants().revoke_token(family.tokens.access.hash, t0 + 9);  // idempotent: the first time is kept
  EXPECT_EQ(this->grants().find_token(family.tokens.access.hash), revoked);
  // The family and its refresh token stay live.
  EXPECT_EQ(this->grants().find_token(family.tokens.refresh->hash), *family.tokens.refresh);
  EXPECT_EQ(this->grants().find_grant(family.grant.id), family.grant);
  EXPECT_NO_THROW(this->grants().revoke_token("unknown-hash", t0 + 9));
}

TYPED_TEST_P(StoreContract, ReplayRefreshIsConsumedOnceAndRevokesSuccessor) {
  const auto family = this->issue_family("a");
  const auto& old_hash = family.tokens.refresh->hash;
  const auto successor = make_tokens("b", family.grant, t0 + 10);
  ASSERT_EQ(this->grants().rotate_refresh(old_hash, t0 + 10, successor), ConsumeOutcome::consumed);

  const auto replay = make_tokens("c", family.grant, t0 + 12);
  ASSERT_EQ(this->grants().replay_refresh(old_hash, t0 + 12, replay), ConsumeOutcome::consumed);
  auto old_token = *family.tokens.refresh;
  old_token.used_at = t0 + 10;
  old_token.next_hash = "rt-c";
  old_token.replayed = true;
  EXPECT_EQ(this->grants().find_token(old_hash), old_token);
  auto revoked_successor = *successor.refresh;
  revoked_successor.revoked_at = t0 + 12;
  EXPECT_EQ(this->grants().find_token("rt-b"), revoked_successor);
  EXPECT_EQ(this->grants().find_token("at-c"), replay.access);
  EXPECT_EQ(this->grants().find_token("rt-c"), *replay.refresh);

  // The replay is spent, and the revoked successor cannot rotate; the replay's token can.
  EXPECT_EQ(this->grants().replay_refresh(old_hash, t0 + 13, make_tokens("d", family.grant, t0 + 13)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().find_token("rt-d"), std::nullopt);
  EXPECT_EQ(this->grants().find_token(old_hash), old_token);
  EXPECT_EQ(this->grants().rotate_refresh("rt-b", t0 + 14, make_tokens("e", family.grant, t0 + 14)),
            ConsumeOutcome::lost);
  EXPECT_EQ(this->grants().rotate_refresh("rt-c", t0 + 15, make_tokens("f", family.grant, t0 + 15)),
            ConsumeOutcome::consumed);
}

TYPED_TEST_P(StoreContract, ReplayRefreshLostWhenSuccessorAlreadyRotated) {
  const auto family = this->issue_family("a");
  const auto& old_hash = family.tokens.refresh->hash;
  ASSERT_EQ(this->grants().rotate_refresh(old_hash, t0 + 10, make_tokens("b", family.grant, t0 + 10)),
            ConsumeOutcome::consumed);
  ASSERT_EQ(this->grants().rotate_refresh("rt-b", t0 + 11, make_tokens("c", family.grant, t0 + 11)),
            ConsumeOutcome::consumed);
  EXPECT_EQ(this->grants().replay_refresh(old_hash, t0 + 12, make_tokens("d", family.grant, t0 + 12)),
            ConsumeOutcome::lost);

  EXPECT_EQ(this->grants().find_token("rt-d"), std::nullopt);
  EXPECT_EQ(this->grants().find_token("at-d"), std::nullopt);
  const auto old_token = this->grants().find_token(old_hash);
  ASSERT_TRUE(old_token.has_value());
  EXPECT_FALSE(old_token->replayed);
  EXPECT_EQ(old_token->next_hash, "rt-b");
  const auto successor = this->grants().find_token("rt-b");
  ASSERT_TRUE(successor.has_value());
  EXPECT_EQ(successor->revoked_at, std::nullopt);
}

TYPED_TEST_P(StoreContract, ReplayRefreshLostWhenUnusedUnknownOrFamilyRevoked) {
  const auto family = this->issue_family("a");
  const auto& old_hash = family.tokens.refresh->hash;
  EXPECT_EQ(this->grants().replay_refresh(old_hash, t0 + 5, make_tokens("b", family.grant, t0 + 5)),
            ConsumeOutcome::lost);  // never rotated: nothing to replay
  EXPECT_EQ(this->grants().replay_refresh("rt-unknown", t0 + 5, make_tokens("c", family.grant, t0 + 5)),
            ConsumeOutcome::lost);
  ASSERT_EQ(this->grants().rotate_refresh(old_hash, t0 + 10, make_tokens("d", family.grant, t0 + 10)),
            ConsumeOutcome::consumed);
  this->grants().revoke_grant(family.grant.id, t0 + 11);
  EXPECT_EQ(this->grants().replay_refresh(old_hash, t0 + 12, make_tokens("e", family.grant, t0 + 12)),
            ConsumeOutcome::lost);
  for (const char* hash : {"rt-b", "rt-c", "rt-e", "at-e"})
    EXPECT_EQ(this->grants().find_token(hash), std::nullopt) << hash;
  EXPECT_EQ(this->grants().find_token("rt-d").value().revoked_at, std::nullopt);
}

// --- concurrency -----------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, ConcurrentRedeemHasExactlyOneWinner) {
  constexpr int threads = 16;
  for (int round = 0; round < 20; ++round) {
    const auto code = make_code("race-" + std::to_string(round), TestFixture::client_id, t0);
    this->grants().insert_code(code);
    const auto grant = make_grant(code, t0 + 1);
    const auto tag = [&](int thread) { return std::to_string(round) + "-" + std::to_string(thread); };
    const auto result = race(threads, [&](int thread) {
      return this->grants().redeem_code(code.hash, t0 + 1, grant, make_tokens(tag(thread), grant, t0 + 1));
    });
    EXPECT_EQ(result.consumed, 1) << "round " << round;
    EXPECT_EQ(result.lost, threads - 1) << "round " << round;
    EXPECT_EQ(result.errors, 0) << "round " << round;
    int stored = 0;
    for (int thread = 0; thread < threads; ++thread)
      stored += this->grants().find_token("at-" + tag(thread)).has_value() ? 1 : 0;
    EXPECT_EQ(stored, 1) << "round " << round;
  }
}

TYPED_TEST_P(StoreContract, ConcurrentRotateHasExactlyOneWinner) {
  constexpr int threads = 16;
  for (int round = 0; round < 20; ++round) {
    const auto family = this->issue_family("family-" + std::to_string(round));
    const auto tag = [&](int thread) { return std::to_string(round) + "-" + std::to_string(thread); };
    const auto result = race(threads, [&](int thread) {
      return this->grants().rotate_refresh(family.tokens.refresh->hash, t0 + 10,
                                           make_tokens(tag(thread), family.grant, t0 + 10));
    });
    EXPECT_EQ(result.consumed, 1) << "round " << round;
    EXPECT_EQ(result.lost, threads - 1) << "round " << round;
    EXPECT_EQ(result.errors, 0) << "round " << round;
    std::vector<std::string> stored;
    for (int thread = 0; thread < threads; ++thread)
      if (this->grants().find_token("rt-" + tag(thread))) stored.push_back("rt-" + tag(thread));
    ASSERT_EQ(stored.size(), 1u) << "round " << round;
    EXPECT_EQ(this->grants().find_token(family.tokens.refresh->hash).value().next_hash, stored.front());
  }
}

// --- durability ------------------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, DataSurvivesReopen) {
  const auto account = make_account("sub-1", "ada@example.com");
  ASSERT_TRUE(this->accounts().insert(account));
  const auto family = this->issue_family("a");
  const auto pending = make_code("pending", TestFixture::client_id, t0);
  this->grants().insert_code(pending);
  ASSERT_EQ(
      this->grants().rotate_refresh(family.tokens.refresh->hash, t0 + 10, make_tokens("b", family.grant, t0 + 10)),
      ConsumeOutcome::consumed);

  this->reopen();

  EXPECT_EQ(this->clients().find(TestFixture::client_id), make_client(TestFixture::client_id));
  EXPECT_EQ(this->accounts().find("sub-1"), account);
  EXPECT_EQ(this->grants().find_code(pending.hash), pending);
  EXPECT_EQ(this->grants().find_grant(family.grant.id), family.grant);
  EXPECT_EQ(this->grants().find_token(family.tokens.access.hash), family.tokens.access);
  EXPECT_EQ(this->grants().find_token(family.tokens.refresh->hash).value().next_hash, "rt-b");
  EXPECT_TRUE(this->grants().find_token("rt-b").has_value());
  // Single use survives the restart too.
  EXPECT_EQ(
      this->grants().redeem_code(family.code.hash, t0 + 20, family.grant, make_tokens("c", family.grant, t0 + 20)),
      ConsumeOutcome::lost);
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

TYPED_TEST_P(StoreContract, PurgeRemovesCodesOnlyOnceExpired) {
  auto unused = make_code("code-unused", this->client_id, t0);
  this->grants().insert_code(unused);
  const auto family = this->issue_family("f1");  // its code is used: kept for reuse detection until it expires
  EXPECT_EQ(this->purge().purge_batch(t0 + 59, 500).codes, 0);
  EXPECT_TRUE(this->grants().find_code(unused.hash));
  EXPECT_TRUE(this->grants().find_code(family.code.hash));
  EXPECT_EQ(this->purge().purge_batch(t0 + 60, 500).codes, 2);
  EXPECT_FALSE(this->grants().find_code(unused.hash));
  EXPECT_FALSE(this->grants().find_code(family.code.hash));
  EXPECT_TRUE(this->grants().find_token(family.tokens.access.hash)) << "tokens outlive their code";
}

TYPED_TEST_P(StoreContract, PurgeRemovesExpiredAccessTokensAndEmptiedGrants) {
  auto code = make_code("code-x", this->client_id, t0);
  auto grant = make_grant(code, t0 + 1);
  auto tokens = make_tokens("x", grant, t0 + 1, /*with_refresh=*/false);
  this->grants().insert_code(code);
  ASSERT_EQ(this->grants().redeem_code(code.hash, t0 + 1, grant, tokens), ConsumeOutcome::consumed);
  const auto live = this->issue_family("live");  // has a refresh token: its grant stays
  const base::UnixSeconds after = t0 + 1 + 3600;
  auto counts = this->purge().purge_batch(after - 1, 500);
  EXPECT_EQ(counts.access_tokens, 0);
  EXPECT_TRUE(this->grants().find_token(tokens.access.hash));
  counts = this->purge().purge_batch(after, 500);
  EXPECT_EQ(counts.access_tokens, 2);
  EXPECT_EQ(counts.grants, 1) << "only the grant left without tokens";
  EXPECT_FALSE(this->grants().find_token(tokens.access.hash));
  EXPECT_FALSE(this->grants().find_grant(grant.id));
  EXPECT_TRUE(this->grants().find_grant(live.grant.id));
  EXPECT_TRUE(this->grants().find_token(live.tokens.refresh->hash));
}

TYPED_TEST_P(StoreContract, PurgeKeepsRotatedRefreshTokenForItsOwnLifetime) {
  const auto family = this->issue_family("r1");
  // Rotated late in its life: the successor lives a full lifetime from then.
  const base::UnixSeconds rotated_at = family.tokens.refresh->expires_at - 10;
  auto next = make_tokens("r2", family.grant, rotated_at);
  ASSERT_EQ(this->grants().rotate_refresh(family.tokens.refresh->hash, rotated_at, next), ConsumeOutcome::consumed);
  const base::UnixSeconds old_expired = family.tokens.refresh->expires_at;
  auto counts = this->purge().purge_batch(old_expired - 1, 500);
  EXPECT_EQ(counts.refresh_tokens, 0) << "the rotated token stays while it lives: its replay revokes the family";
  EXPECT_TRUE(this->grants().find_token(family.tokens.refresh->hash));
  counts = this->purge().purge_batch(old_expired, 500);
  EXPECT_EQ(counts.refresh_tokens, 1) << "expired: refused as unknown from now on";
  EXPECT_EQ(counts.grants, 0) << "the family lives on in its successor";
  EXPECT_FALSE(this->grants().find_token(family.tokens.refresh->hash));
  EXPECT_TRUE(this->grants().find_token(next.refresh->hash));
  counts = this->purge().purge_batch(next.refresh->expires_at, 500);
  EXPECT_EQ(counts.refresh_tokens, 1);
  EXPECT_EQ(counts.grants, 1);
  EXPECT_FALSE(this->grants().find_grant(family.grant.id));
}

TYPED_TEST_P(StoreContract, PurgeRemovesRevokedFamilies) {
  const auto revoked = this->issue_family("rv");
  const auto live = this->issue_family("lv");
  this->grants().revoke_grant(revoked.grant.id, t0 + 5);
  EXPECT_EQ(this->purge().purge_batch(t0 + 4, 500).grants, 0) << "revoked after this purge's now";
  const auto counts = this->purge().purge_batch(t0 + 5, 500);
  EXPECT_EQ(counts.grants, 1);
  EXPECT_FALSE(this->grants().find_grant(revoked.grant.id));
  EXPECT_FALSE(this->grants().find_token(revoked.tokens.access.hash));
  EXPECT_FALSE(this->grants().find_token(revoked.tokens.refresh->hash));
  EXPECT_TRUE(this->grants().find_token(live.tokens.access.hash));
  EXPECT_TRUE(this->grants().find_token(live.tokens.refresh->hash));
}

TYPED_TEST_P(StoreContract, PurgeWorksInBatchesAndIsIdempotent) {
  for (int i = 0; i < 7; ++i) this->grants().insert_code(make_code("code-b" + std::to_string(i), this->client_id, t0));
  EXPECT_EQ(this->purge().purge_batch(t0 + 60, 3).codes, 3);
  EXPECT_EQ(this->purge().purge_batch(t0 + 60, 3).codes, 3);
  EXPECT_EQ(this->purge().purge_batch(t0 + 60, 3).codes, 1);
  EXPECT_EQ(this->purge().purge_batch(t0 + 60, 3).total(), 0);
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(this->grants().find_code("code-b" + std::to_string(i)));
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract, ClientInsertFindRoundTrip, ClientFindUnknownIsEmpty, ClientFindBySecretHash,
                            ClientDuplicateIdIsRejected, ClientListReturnsEveryClient,
                            ClientRemoveDeletesItsCodesGrantsAndTokens, ClientRemoveUnknownReturnsFalse,
                            ClientUpdateSecretHash, AccountInsertFindRoundTrip, AccountFindByEmailIgnoresCase,
                            AccountDuplicateSubOrEmailIsRejected, AccountUpdateProfile, CodeInsertFindRoundTrip,
                            RedeemCodeIsConsumedOnceThenLost, RedeemExpiredCodeIsLostAndWritesNothing,
                            RedeemUnknownCodeIsLost, RedeemedTokensAreFindableWithEveryField,
                            RedeemWithoutRefreshTokenStoresAccessOnly, RotateRefreshIsConsumedOnceThenLost,
                            RotateRefreshLostWhenGrantRevoked, RotateRefreshLostWhenExpiredUnknownOrNotRefresh,
                            RevokeGrantMarksEveryTokenOfTheFamily, InsertGrantStoresGrantAndTokensWithoutACode,
                            RevokeTokenMarksOnlyThatToken, ReplayRefreshIsConsumedOnceAndRevokesSuccessor,
                            ReplayRefreshLostWhenSuccessorAlreadyRotated,
                            ReplayRefreshLostWhenUnusedUnknownOrFamilyRevoked, ConcurrentRedeemHasExactlyOneWinner,
                            ConcurrentRotateHasExactlyOneWinner, DataSurvivesReopen, ReopenIsIdempotent,
                            PurgeRemovesCodesOnlyOnceExpired, PurgeRemovesExpiredAccessTokensAndEmptiedGrants,
                            PurgeKeepsRotatedRefreshTokenForItsOwnLifetime, PurgeRemovesRevokedFamilies,
                            PurgeWorksInBatchesAndIsIdempotent);

}  // namespace boltauth::contract
