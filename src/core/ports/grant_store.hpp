#pragma once
#include <optional>
#include <string_view>

#include "core/model/grant.hpp"

namespace boltauth::core::ports {

/// Result of a consuming write: `consumed` when this call won, `lost` when the code or token was already
/// used, revoked, expired, or its family revoked, by the time the conditional update ran.
enum class ConsumeOutcome { consumed, lost };

/// Codes, grants (token families) and tokens, keyed by hash. Every method may throw StorageError; a method
/// that returns has committed durably. Single use is a conditional UPDATE and a row count in the same
/// transaction that inserts the new rows, never a read followed by a write (architecture.md).
class GrantStore {
 public:
  virtual ~GrantStore() = default;

  virtual void insert_code(const model::CodeRecord& code) = 0;
  virtual std::optional<model::CodeRecord> find_code(std::string_view hash) = 0;

  /// One transaction: mark the code used iff it is unused and `now < expires_at`; then insert `grant` and
  /// `tokens`. Nothing is written when the outcome is `lost`.
  virtual ConsumeOutcome redeem_code(std::string_view code_hash, base::UnixSeconds now, const model::GrantRecord& grant,
                                     const model::IssuedTokens& tokens) = 0;

  /// A token with `grant_revoked` filled in.
  virtual std::optional<model::TokenRecord> find_token(std::string_view hash) = 0;
  virtual std::optional<model::GrantRecord> find_grant(std::string_view grant_id) = 0;

  /// One transaction: mark refresh token `old_hash` used (next_hash = tokens.refresh->hash) iff it is unused,
  /// not revoked, `now < expires_at` and its family is not revoked; then insert `tokens`.
  virtual ConsumeOutcome rotate_refresh(std::string_view old_hash, base::UnixSeconds now,
                                        const model::IssuedTokens& tokens) = 0;

  /// Grace-window replay of the immediately previous refresh token (contract section 3). One transaction:
  /// iff `old_hash` is used, not yet replayed, not revoked, its family live, and its successor still unused:
  /// revoke the successor and every earlier access token of the family, mark old replayed with
  /// next_hash = tokens.refresh->hash, insert `tokens`.
  virtual ConsumeOutcome replay_refresh(std::string_view old_hash, base::UnixSeconds now,
                                        const model::IssuedTokens& tokens) = 0;

  /// Revokes a whole family: every access and refresh token of the grant. Idempotent; unknown ids are a no-op.
  virtual void revoke_grant(std::string_view grant_id, base::UnixSeconds now) = 0;

  /// One transaction: insert `grant` and `tokens` (a grant that consumes nothing: client_credentials).
  virtual void insert_grant(const model::GrantRecord& grant, const model::IssuedTokens& tokens) = 0;

  /// Revokes one token (RFC 7009 on an access token): sets its `revoked_at` unless already set. Idempotent;
  /// unknown hashes are a no-op. Its family stays live.
  virtual void revoke_token(std::string_view hash, base::UnixSeconds now) = 0;
};

}  // namespace boltauth::core::ports
