#include "server/db_key_material.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>

#include "crypto/signing_key.hpp"

namespace boltauth::server {

using core::ports::SecretRecord;

namespace {

constexpr std::string_view kCheck = "check";
constexpr std::string_view kHash = "hash";
constexpr std::string_view kSigning = "signing";
constexpr std::string_view kSealing = "sealing";

// Each failed insert means another process added a record of the kind meanwhile: a handful at most in practice.
constexpr int kMaxAttempts = 100;

// The plaintext of a secret, wiped when it goes.
struct Plain {
  std::string text;
  ~Plain() { OPENSSL_cleanse(text.data(), text.size()); }
};

std::string record_name(const SecretRecord& r) { return r.kind + " secret " + std::to_string(r.number); }

// A failed poll repeats every second until it succeeds: say so once per distinct failure, not once a second.
void note_poll_failure(std::string& last, const char* what, const std::exception& e) {
  if (last == e.what()) return;
  last = e.what();
  spdlog::warn("{}: {}; going on with the keys loaded before", what, last);
}

std::int64_t next_number(const std::vector<SecretRecord>& records) {
  std::int64_t highest = 0;
  for (const auto& r : records) highest = std::max(highest, r.number);
  return highest + 1;
}

}  // namespace

namespace detail {

struct DbSecrets {
  core::ports::SecretStore& store;
  SecretCipher cipher;
  std::filesystem::path master_file;
  base::Random& random;
  // Records this process added. A source polls at once when it changed, so a key this node adds is in use by
  // this node's very next request; other nodes see it within a second (their next poll).
  mutable std::atomic<std::uint64_t> local_additions{0};

  DbSecrets(core::ports::SecretStore& s, const MasterKey& master, base::Random& r)
      : store(s), cipher(master), master_file(master.file), random(r) {}

  std::string master_file_name() const {
    return master_file.empty() ? std::string("the master key") : "the master key file " + master_file.string();
  }

  // Throws, naming the record, when it does not open: someone changed it, moved it to another number or kind, or
  // sealed it under another master key. Never skipped: a key that fails must not quietly give way to a newer one.
  std::string open(const SecretRecord& r) const {
    auto plain = cipher.open(r);
    if (!plain)
      throw std::runtime_error("the database's " + record_name(r) + " does not open under " + master_file_name() +
                               ": it was changed, moved, or sealed under another master key");
    return std::move(*plain);
  }

  // Inserts a record of `kind` with the next number after `seen`; false when another process took that number.
  bool insert_next(const std::vector<SecretRecord>& seen, std::string_view kind, const std::string& alg,
                   base::UnixSeconds created_at, base::UnixSeconds activates_at, std::string_view plaintext,
                   std::int64_t* number = nullptr) const {
    SecretRecord r;
    r.kind = std::string(kind);
    r.number = next_number(seen);
    r.alg = alg;
    r.created_at = created_at;
    r.activates_at = activates_at;
    r.sealed = cipher.seal(r, plaintext, random);
    if (!store.insert_secret(r)) return false;
    local_additions.fetch_add(1);
    if (number) *number = r.number;
    return true;
  }

  core::ScheduledKey signing_key(const SecretRecord& r) const {
    const Plain pem{open(r)};
    core::ScheduledKey k;
    try {
      k.key = std::make_shared<const crypto::SigningKey>(crypto::SigningKey::from_pem(pem.text));
    } catch (const std::exception& e) {
      throw std::runtime_error("the database's " + record_name(r) + " is not a private key: " + e.what());
    }
    if (k.key->alg() != r.alg)
      throw std::runtime_error("the database's " + record_name(r) + " says " + r.alg + " but holds an " + k.key->alg() +
                               " key");
    k.created_at = r.created_at;
    k.activates_at = r.activates_at;
    return k;
  }

  NumberedSealingKey sealing_key(const SecretRecord& r) const {
    const Plain secret{open(r)};
    if (secret.text.size() != 32 || r.number < 1)
      throw std::runtime_error("the database's " + record_name(r) + " is not a 32-byte sealing key");
    NumberedSealingKey k;
    k.number = static_cast<long>(r.number);
    k.key.id = sealing_key_id(k.number);
    k.key.created_at = r.created_at;
    std::copy(secret.text.begin(), secret.text.end(), k.key.secret.begin());
    return k;
  }
};

}  // namespace detail

DbKeyMaterial::DbKeyMaterial(core::ports::SecretStore& store, MasterKey master, base::Random& random)
    : secrets_(std::make_shared<const detail::DbSecrets>(store, master, random)) {
  const auto& s = *secrets_;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto checks = store.secrets(kCheck);
    if (!checks.empty()) {
      // A wrong master key must stop the server here: going on would mean new keys beside the database's own,
      // tokens and sessions that other nodes cannot open, and a master key that no longer matches half of it.
      const auto plain = s.cipher.open(checks.front());
      if (!plain || *plain != kCheckText)
        throw std::runtime_error(s.master_file_name() +
                                 " does not open this database's secrets: use the file the database was set up with");
      return;
    }
    // No check record, yet secrets: they were not written by this server as it is, or the record was deleted.
    // Whatever they are sealed under, writing a check record for this key now would bless a mismatch.
    for (const auto kind : {kHash, kSigning, kSealing}) {
      if (!store.secrets(kind).empty())
        throw std::runtime_error("this database holds server secrets (" + std::string(kind) +
                                 ") but no check record, so no master key can be verified against it: restore the "
                                 "check record from a backup, or set the database up anew");
    }
    if (s.insert_next(checks, kCheck, "", 0, 0, kCheckText)) return;
  }
  throw std::runtime_error("could not set up the database's secrets: another process kept changing them");
}

DbKeyMaterial::~DbKeyMaterial() = default;

std::array<std::uint8_t, 32> DbKeyMaterial::master_key(base::Random& random) const {
  const auto& s = *secrets_;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto records = s.store.secrets(kHash);
    if (!records.empty()) {
      // Inserted only while there is none, so there is one; every node reads that one.
      const Plain plain{s.open(records.front())};
      if (plain.text.size() != 32)
        throw std::runtime_error("the database's " + record_name(records.front()) + " is not a 32-byte key");
      std::array<std::uint8_t, 32> key{};
      std::copy(plain.text.begin(), plain.text.end(), key.begin());
      return key;
    }
    Plain fresh{std::string(32, '\0')};
    random.fill(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(fresh.text.data()), fresh.text.size()));
    s.insert_next(records, kHash, "", 0, 0, fresh.text);  // lost a race: the next pass reads the winner's
  }
  throw std::runtime_error("could not create the keyed-hash key: another process kept changing it");
}

void DbKeyMaterial::ensure_signing_keys(int rsa_bits, base::UnixSeconds now) const {
  const auto& s = *secrets_;
  std::optional<crypto::SigningKey> pending;  // RSA keys are slow to make: one per alg, kept across a lost race
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto records = s.store.secrets(kSigning);
    std::optional<std::string> missing;
    for (const auto& alg : crypto::SigningKey::supported_algs()) {
      if (std::none_of(records.begin(), records.end(), [&](const SecretRecord& r) { return r.alg == alg; })) {
        missing = alg;
        break;
      }
    }
    if (!missing) return;
    if (!pending || pending->alg() != *missing) pending = crypto::SigningKey::generate(*missing, rsa_bits);
    const Plain pem{pending->private_pem()};
    // The insert succeeds only if nothing was added since `records` was read, so the alg is still missing.
    if (s.insert_next(records, kSigning, *missing, now, now, pem.text)) pending.reset();
  }
  throw std::runtime_error("could not add the missing signing keys: another process kept adding keys");
}

core::ScheduledKey DbKeyMaterial::rotate(const std::string& alg, int rsa_bits, base::UnixSeconds now,
                                         std::int64_t activation_delay) const {
  const auto& s = *secrets_;
  auto key = crypto::SigningKey::generate(alg, rsa_bits);
  const Plain pem{key.private_pem()};
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (s.insert_next(s.store.secrets(kSigning), kSigning, key.alg(), now, now + activation_delay, pem.text))
      return core::ScheduledKey{std::make_shared<const crypto::SigningKey>(std::move(key)), now,
                                now + activation_delay};
  }
  throw std::runtime_error("could not add a signing key: another process kept adding keys");
}

std::vector<core::ScheduledKey> DbKeyMaterial::scheduled_keys() const {
  std::vector<core::ScheduledKey> keys;
  for (const auto& r : secrets_->store.secrets(kSigning)) keys.push_back(secrets_->signing_key(r));
  return keys;
}

void DbKeyMaterial::ensure_sealing_key(base::UnixSeconds now) const {
  const auto& s = *secrets_;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto records = s.store.secrets(kSealing);
    if (!records.empty()) return;
    Plain secret{std::string(32, '\0')};
    s.random.fill(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(secret.text.data()), secret.text.size()));
    if (s.insert_next(records, kSealing, "", now, now, secret.text)) return;
  }
  throw std::runtime_error("could not create the first sealing key: another process kept adding keys");
}

NumberedSealingKey DbKeyMaterial::rotate_sealing(base::UnixSeconds now) const {
  const auto& s = *secrets_;
  NumberedSealingKey k;
  k.key.created_at = now;
  s.random.fill(k.key.secret);
  const std::string_view secret(reinterpret_cast<const char*>(k.key.secret.data()), k.key.secret.size());
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::int64_t number = 0;
    if (s.insert_next(s.store.secrets(kSealing), kSealing, "", now, now, secret, &number)) {
      k.number = static_cast<long>(number);
      k.key.id = sealing_key_id(k.number);
      return k;
    }
  }
  throw std::runtime_error("could not add a sealing key: another process kept adding keys");
}

std::vector<NumberedSealingKey> DbKeyMaterial::sealing_key_files() const {
  std::vector<NumberedSealingKey> keys;
  for (const auto& r : secrets_->store.secrets(kSealing)) keys.push_back(secrets_->sealing_key(r));
  return keys;
}

std::unique_ptr<core::ports::KeySource> DbKeyMaterial::key_source(std::int64_t id_token_ttl) const {
  return std::make_unique<DbKeySource>(secrets_, id_token_ttl);
}

std::unique_ptr<core::ports::SealerSource> DbKeyMaterial::sealer_source(std::int64_t retention_seconds,
                                                                        base::UnixSeconds now) const {
  return std::make_unique<DbSealerSource>(secrets_, retention_seconds, now);
}

// ---- DbKeySource -------------------------------------------------------------------------------------------

namespace {
// No `now` has been polled at yet: the first call asks the store's version.
constexpr base::UnixSeconds kNever = std::numeric_limits<base::UnixSeconds>::min();
}  // namespace

DbKeySource::DbKeySource(std::shared_ptr<const detail::DbSecrets> secrets, std::int64_t id_token_ttl)
    : secrets_(std::move(secrets)), ttl_(id_token_ttl), last_poll_(kNever) {
  std::lock_guard poll_lock(poll_mutex_);
  version_ = std::numeric_limits<std::int64_t>::min();
  seen_additions_.store(secrets_->local_additions.load());
  poll();
  std::lock_guard lock(mutex_);
  if (keys_.empty()) throw std::runtime_error("the database holds no signing key");
}

DbKeySource::~DbKeySource() = default;

void DbKeySource::poll() {
  // The version first: a record added between the two reads is read now and again next time, never missed.
  const std::int64_t version = secrets_->store.secrets_version();
  if (version == version_) return;
  std::map<std::int64_t, core::ScheduledKey> fresh;
  for (const auto& r : secrets_->store.secrets(kSigning)) {
    if (auto it = keys_.find(r.number); it != keys_.end())
      fresh.emplace(r.number, it->second);  // records are immutable: decrypted once
    else
      fresh.emplace(r.number, secrets_->signing_key(r));
  }
  {
    std::lock_guard lock(mutex_);
    // The version counts every kind: a sealing rotation leaves the ring as it is.
    if (fresh.size() != keys_.size()) ring_.reset();
    keys_ = std::move(fresh);
  }
  version_ = version;
}

void DbKeySource::poll_logged(base::UnixSeconds now) {
  last_poll_.store(now);
  try {
    poll();
    last_error_.clear();
  } catch (const std::exception& e) {
    // The database is unreachable, or a new record does not open: keep signing with the keys loaded before,
    // and try again next second.
    note_poll_failure(last_error_, "signing keys", e);
  }
}

std::shared_ptr<const core::KeyRing> DbKeySource::ring(base::UnixSeconds now) {
  const std::uint64_t added = secrets_->local_additions.load();
  if (added != seen_additions_.load(std::memory_order_relaxed)) {
    // This process added a key: wait for any poll under way, then look, so the addition is never missed.
    std::lock_guard poll_lock(poll_mutex_);
    if (added != seen_additions_.load()) {
      poll_logged(now);
      seen_additions_.store(added);
    }
  } else if (last_poll_.load(std::memory_order_relaxed) != now) {
    std::unique_lock poll_lock(poll_mutex_, std::try_to_lock);
    if (poll_lock.owns_lock() && last_poll_.load() != now) poll_logged(now);
  }
  std::lock_guard lock(mutex_);
  if (!ring_ || now >= ring_->valid_until() || now < ring_->built_at()) {
    std::vector<core::ScheduledKey> keys;
    keys.reserve(keys_.size());
    for (const auto& [n, k] : keys_) keys.push_back(k);
    ring_ = std::make_shared<const core::KeyRing>(std::move(keys), now, ttl_);
  }
  return ring_;
}

// ---- DbSealerSource ----------------------------------------------------------------------------------------

DbSealerSource::DbSealerSource(std::shared_ptr<const detail::DbSecrets> secrets, std::int64_t retention_seconds,
                               base::UnixSeconds now)
    : secrets_(std::move(secrets)), retention_(retention_seconds), last_poll_(now) {
  std::lock_guard poll_lock(poll_mutex_);
  version_ = std::numeric_limits<std::int64_t>::min();
  seen_additions_.store(secrets_->local_additions.load());
  poll();
  std::lock_guard lock(mutex_);
  if (keys_.empty()) throw std::runtime_error("the database holds no sealing key");
  rebuild(now);
}

DbSealerSource::~DbSealerSource() = default;

void DbSealerSource::poll() {
  const std::int64_t version = secrets_->store.secrets_version();  // first, as DbKeySource::poll
  if (version == version_) return;
  std::map<std::int64_t, NumberedSealingKey> fresh;
  for (const auto& r : secrets_->store.secrets(kSealing)) {
    if (auto it = keys_.find(r.number); it != keys_.end())
      fresh.emplace(r.number, it->second);
    else
      fresh.emplace(r.number, secrets_->sealing_key(r));
  }
  {
    std::lock_guard lock(mutex_);
    if (fresh.size() != keys_.size()) sealer_.reset();
    keys_ = std::move(fresh);
  }
  version_ = version;
}

std::shared_ptr<const crypto::TokenSealer> DbSealerSource::sealer(base::UnixSeconds now) { return current(now, false); }

std::shared_ptr<const crypto::TokenSealer> DbSealerSource::reload(base::UnixSeconds now) { return current(now, true); }

std::shared_ptr<const crypto::TokenSealer> DbSealerSource::current(base::UnixSeconds now, bool force) {
  // A key this process added is used at once (see DbSecrets::local_additions); not capped, as only an operator
  // adds keys.
  const std::uint64_t added = secrets_->local_additions.load();
  const bool local_change = added != seen_additions_.load(std::memory_order_relaxed);
  if (force && !local_change) {
    // The key id of a token is chosen by whoever sends it, so forced looks are capped per second: a flood of
    // tokens naming unknown ids costs a few queries a second, not one each. A genuine rotation elsewhere is
    // still seen by the next second's regular look.
    std::lock_guard lock(mutex_);
    if (now != forced_second_) {
      forced_second_ = now;
      forced_looks_ = 0;
    }
    force = ++forced_looks_ <= kForcedLooksPerSecond;
  }
  if (force || local_change) {
    // The caller needs the answer after the look: wait for a poll already under way, then look again.
    std::lock_guard poll_lock(poll_mutex_);
    seen_additions_.store(added);
    last_poll_.store(now);
    try {
      poll();
      last_error_.clear();
    } catch (const std::exception& e) {
      // Unreachable database or a record that does not open: the keys loaded before go on sealing.
      note_poll_failure(last_error_, "sealing keys", e);
    }
  } else if (last_poll_.load(std::memory_order_relaxed) != now) {
    std::unique_lock poll_lock(poll_mutex_, std::try_to_lock);
    if (poll_lock.owns_lock() && last_poll_.load() != now) {
      last_poll_.store(now);
      try {
        poll();
        last_error_.clear();
      } catch (const std::exception& e) {
        // As above: token issuance does not stop because the database is briefly away.
        note_poll_failure(last_error_, "sealing keys", e);
      }
    }
  }
  std::lock_guard lock(mutex_);
  if (!sealer_ || now >= valid_until_ || now < built_at_) rebuild(now);
  return sealer_;
}

void DbSealerSource::rebuild(base::UnixSeconds now) {
  std::vector<NumberedSealingKey> keys;
  keys.reserve(keys_.size());
  for (const auto& [n, k] : keys_) keys.push_back(k);
  auto built = live_sealer(keys, now, retention_);
  sealer_ = std::move(built.sealer);
  built_at_ = now;
  valid_until_ = built.valid_until;
}

}  // namespace boltauth::server
