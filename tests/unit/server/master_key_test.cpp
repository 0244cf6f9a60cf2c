// The master key file (generate, load, its errors and mode) and the sealing of secrets under it.
#include "server/master_key.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::server {
namespace {

namespace fs = std::filesystem;
using core::ports::SecretRecord;

constexpr base::UnixSeconds t0 = 1'800'000'000;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& p, const std::string& text, mode_t mode = 0600) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  ::chmod(p.c_str(), mode);
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::string key_line(std::uint8_t fill) {
  std::array<std::uint8_t, 32> bytes{};
  bytes.fill(fill);
  return base::base64url_encode(bytes);
}

// ---- the file ----------------------------------------------------------------------------------------------

TEST(MasterKeyFile, GenerateWritesAPrivateFileThatLoads) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "master.key";
  base::SeededRandom random(7);
  generate_master_key_file(path, random);
  EXPECT_EQ(mode_of(path), 0600u);
  const std::string text = slurp(path);
  ASSERT_EQ(text.front(), '#') << "a comment line says what the file is";
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(text.substr(text.find('\n') + 1).size(), 44u) << "43 base64url characters and a newline";

  const MasterKey key = load_master_key(path);
  std::array<std::uint8_t, 32> expected{};
  base::SeededRandom(7).fill(expected);
  EXPECT_EQ(key.bytes, expected);
  EXPECT_EQ(key.file, path);
  EXPECT_FALSE(key.warning) << *key.warning;
}

TEST(MasterKeyFile, GenerateNeverOverwritesAFile) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "master.key";
  base::SeededRandom random(1);
  generate_master_key_file(path, random);
  const std::string first = slurp(path);
  const std::string message = error_of([&] { generate_master_key_file(path, random); });
  EXPECT_NE(message.find(path.string() + " already exists: not overwriting it"), std::string::npos) << message;
  EXPECT_EQ(slurp(path), first);

  const fs::path other = dir.path() / "notes.txt";
  write_file(other, "not a key\n");
  EXPECT_NE(error_of([&] { generate_master_key_file(other, random); }).find("already exists"), std::string::npos);
  EXPECT_EQ(slurp(other), "not a key\n");
}

TEST(MasterKeyFile, GenerateInAMissingDirectorySaysSo) {
  testing::TempDir dir;
  base::SeededRandom random(1);
  const fs::path path = dir.path() / "no" / "master.key";
  EXPECT_EQ(error_of([&] { generate_master_key_file(path, random); }),
            "cannot create " + path.string() + ": its directory does not exist");
}

TEST(MasterKeyFile, MissingFileSaysHowToCreateOne) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "master.key";
  EXPECT_EQ(error_of([&] { load_master_key(path); }),
            "--master-key-file " + path.string() +
                ": no such file; create one with `boltauth master-key generate --out " + path.string() + "`");
}

// What another user sees: as root, a child process that became `nobody`; otherwise this process itself.
std::string error_for_another_user(const fs::path& path) {
  if (::geteuid() != 0) {
    ::chmod(path.c_str(), 0000);
    return error_of([&] { load_master_key(path); });
  }
  int fds[2];
  if (::pipe(fds) != 0) return "(pipe failed)";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string message = "(could not become nobody)";
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) message = error_of([&] { load_master_key(path); });
    const auto written = ::write(fds[1], message.data(), message.size());
    ::_exit(written < 0 ? 1 : 0);
  }
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return message;
}

TEST(MasterKeyFile, UnreadableFileIsAPermissionErrorInWords) {
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);  // the directory may be entered; the file (0600, another owner) not read
  const fs::path path = dir.path() / "master.key";
  write_file(path, key_line(3) + "\n");
  const std::string message = error_for_another_user(path);
  EXPECT_EQ(message, "--master-key-file " + path.string() +
                         ": permission denied: this user may not read it (the service user should own it, mode 0600)");
}

TEST(MasterKeyFile, DirectoryOrMalformedContentIsRefusedInWords) {
  testing::TempDir dir;
  EXPECT_EQ(error_of([&] { load_master_key(dir.path()); }),
            "--master-key-file " + dir.path().string() + ": is a directory, not a master key file");

  const fs::path path = dir.path() / "master.key";
  std::array<std::uint8_t, 31> short_key{};
  std::array<std::uint8_t, 33> long_key{};
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "holds no key"},
      {"# only a comment\n\n", "holds no key"},
      {base::base64url_encode(short_key) + "\n", "the key is 31 bytes, not 32"},
      {base::base64url_encode(long_key) + "\n", "the key is 33 bytes, not 32"},
      {key_line(1) + "\n" + key_line(2) + "\n", "holds more than one line"},
      {key_line(1) + "=\n", "the key is not base64url"},
      {"!" + key_line(1).substr(1) + "\n", "the key is not base64url"},
      {"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n", "holds more than one line"},
      {std::string(5000, 'A'), "too large to be a master key file"},
  };
  for (const auto& [text, expected] : bad) {
    write_file(path, text);
    const std::string message = error_of([&] { load_master_key(path); });
    EXPECT_NE(message.find("--master-key-file " + path.string() + ": " + expected), std::string::npos)
        << message << "\nfor: " << text;
    EXPECT_EQ(message.find("filesystem error"), std::string::npos) << message;
  }
}

TEST(MasterKeyFile, CommentsBlankLinesAndCarriageReturnsAreAccepted) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "master.key";
  write_file(path, "# made by hand\r\n\r\n  \n" + key_line(9) + "\r\n# the end\n");
  std::array<std::uint8_t, 32> expected{};
  expected.fill(9);
  EXPECT_EQ(load_master_key(path).bytes, expected);
  write_file(path, key_line(9));  // no final newline
  EXPECT_EQ(load_master_key(path).bytes, expected);
}

TEST(MasterKeyFile, FileOpenToOtherUsersLoadsWithAWarning) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "master.key";
  for (const mode_t mode : {0640, 0604, 0660, 0644}) {
    write_file(path, key_line(4) + "\n", mode);
    const auto key = load_master_key(path);
    ASSERT_TRUE(key.warning) << std::oct << mode;
    EXPECT_NE(key.warning->find(path.string()), std::string::npos) << *key.warning;
    EXPECT_NE(key.warning->find("`chmod 600`"), std::string::npos) << *key.warning;
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(key.warning->find(std::string("mode ") + octal), std::string::npos) << *key.warning;
  }
  for (const mode_t mode : {0600, 0400}) {
    write_file(path, key_line(4) + "\n", mode);
    EXPECT_FALSE(load_master_key(path).warning) << std::oct << mode;
  }
}

// ---- sealing secrets ---------------------------------------------------------------------------------------

MasterKey master(std::uint8_t fill) {
  MasterKey key;
  key.bytes.fill(fill);
  return key;
}

SecretRecord header(std::string kind = "signing", std::int64_t number = 3, std::string alg = "ES256") {
  SecretRecord r;
  r.kind = std::move(kind);
  r.number = number;
  r.alg = std::move(alg);
  r.created_at = t0;
  r.activates_at = t0 + 60;
  return r;
}

const std::string kPlain = std::string("a secret\0with a zero byte and some more text", 44);

TEST(MasterKeyCipher, SealAndOpenRoundTrip) {
  const SecretCipher cipher(master(1));
  base::SeededRandom random(5);
  SecretRecord r = header();
  r.sealed = cipher.seal(r, kPlain, random);
  ASSERT_EQ(r.sealed.size(), 1 + 12 + kPlain.size() + 16);
  EXPECT_EQ(r.sealed[0], 1) << "version byte";
  EXPECT_EQ(r.sealed.find("a secret"), std::string::npos);
  EXPECT_EQ(cipher.open(r), kPlain);

  SecretRecord empty = header("check", 1, "");
  empty.sealed = cipher.seal(empty, "", random);
  EXPECT_EQ(cipher.open(empty), "");
}

TEST(MasterKeyCipher, EverySealHasAFreshNonce) {
  const SecretCipher cipher(master(1));
  base::SeededRandom random(5);
  const std::string a = cipher.seal(header(), kPlain, random);
  const std::string b = cipher.seal(header(), kPlain, random);
  EXPECT_NE(a.substr(1, 12), b.substr(1, 12));
  EXPECT_NE(a.substr(13), b.substr(13));
}

TEST(MasterKeyCipher, FlippingAnyBitOrCuttingTheRecordFailsToOpen) {
  const SecretCipher cipher(master(1));
  base::SeededRandom random(5);
  SecretRecord r = header();
  r.sealed = cipher.seal(r, kPlain, random);
  const std::string good = r.sealed;
  // Every bit of every part: version, nonce, ciphertext, tag.
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      r.sealed = good;
      r.sealed[i] = static_cast<char>(r.sealed[i] ^ (1 << bit));
      EXPECT_FALSE(cipher.open(r)) << "byte " << i << " bit " << bit;
    }
  }
  for (std::size_t n = 0; n < good.size(); ++n) {
    r.sealed = good.substr(0, n);
    EXPECT_FALSE(cipher.open(r)) << "cut to " << n << " bytes";
  }
  r.sealed = good + '\0';
  EXPECT_FALSE(cipher.open(r));
  r.sealed = good;
  EXPECT_EQ(cipher.open(r), kPlain) << "the intact record still opens";
}

TEST(MasterKeyCipher, ARecordMovedToAnotherNumberOrKindOrRedatedDoesNotOpen) {
  const SecretCipher cipher(master(1));
  base::SeededRandom random(5);
  SecretRecord r = header();
  r.sealed = cipher.seal(r, kPlain, random);
  auto changed = [&](auto change) {
    SecretRecord moved = r;
    change(moved);
    return cipher.open(moved);
  };
  EXPECT_FALSE(changed([](SecretRecord& m) { m.number = 4; }));
  EXPECT_FALSE(changed([](SecretRecord& m) { m.kind = "sealing"; }));
  EXPECT_FALSE(changed([](SecretRecord& m) { m.alg = "RS256"; }));
  EXPECT_FALSE(changed([](SecretRecord& m) { m.created_at += 1; }));
  EXPECT_FALSE(changed([](SecretRecord& m) { m.activates_at = 0; }));
  // Two records swapping their sealed bytes: neither opens in the other's place.
  SecretRecord other = header("signing", 4, "ES256");
  other.sealed = cipher.seal(other, "another secret", random);
  std::swap(r.sealed, other.sealed);
  EXPECT_FALSE(cipher.open(r));
  EXPECT_FALSE(cipher.open(other));
}

TEST(MasterKeyCipher, AnotherMasterKeyDoesNotOpen) {
  base::SeededRandom random(5);
  SecretRecord r = header();
  r.sealed = SecretCipher(master(1)).seal(r, kPlain, random);
  EXPECT_FALSE(SecretCipher(master(2)).open(r));
  EXPECT_EQ(SecretCipher(master(1)).open(r), kPlain);
}

TEST(MasterKeyCipher, AssociatedDataIsUnambiguous) {
  EXPECT_EQ(SecretCipher::associated_data(header()), "signing|3|ES256|1800000000|1800000060");
  EXPECT_THROW(SecretCipher::associated_data(header("sign|ing")), std::invalid_argument);
  EXPECT_THROW(SecretCipher::associated_data(header("signing", 3, "ES|256")), std::invalid_argument);
}

// The format, checked by an independent decryption: HKDF-SHA256 written out with HMAC (RFC 5869, no salt, so
// HashLen zero bytes), then AES-256-GCM with the associated data. A change here locks every database out.
TEST(MasterKeyCipher, FormatIsHkdfSha256ThenAes256GcmOverTheRecordFields) {
  const MasterKey key = master(7);
  base::SeededRandom random(5);
  SecretRecord r = header();
  r.sealed = SecretCipher(key).seal(r, kPlain, random);

  const std::array<std::uint8_t, 32> zeros{};
  const auto prk = crypto::hmac_sha256(zeros, crypto::as_view(key.bytes));
  const auto okm = crypto::hmac_sha256(prk, std::string("boltauth secrets v1") + '\x01');

  const auto* sealed = reinterpret_cast<const unsigned char*>(r.sealed.data());
  const int body = static_cast<int>(r.sealed.size() - 1 - 12 - 16);
  const std::string aad = "signing|3|ES256|1800000000|1800000060";
  std::string plain(static_cast<std::size_t>(body), '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  int final_len = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, okm.data(), sealed + 1) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plain.data()), &len, sealed + 13, body) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<unsigned char*>(sealed + 13 + body)) == 1 &&
      EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &final_len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  ASSERT_TRUE(ok);
  EXPECT_EQ(plain, kPlain);
}

}  // namespace
}  // namespace boltauth::server
