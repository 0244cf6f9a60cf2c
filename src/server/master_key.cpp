#include "server/master_key.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "base/base64url.hpp"

namespace boltauth::server {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kInfo = "boltauth secrets v1";
// A master key file is one short line (and perhaps a comment): anything much larger is not one.
constexpr std::size_t kMaxFileSize = 4096;

std::string flag_text(const fs::path& path) { return "--master-key-file " + path.string(); }

// The words a person needs, not errno names: what happened and what to do.
[[noreturn]] void throw_open_error(const fs::path& path, int err) {
  const std::string what = flag_text(path);
  switch (err) {
    case ENOENT:
      throw std::runtime_error(what + ": no such file; create one with `boltauth master-key generate --out " +
                               path.string() + "`");
    case EACCES:
    case EPERM:
      throw std::runtime_error(what + ": permission denied: this user may not read it (the service user should " +
                               "own it, mode 0600)");
    case ENOTDIR:
      throw std::runtime_error(what + ": a part of the path is not a directory");
    case ELOOP:
      throw std::runtime_error(what + ": too many symbolic links (a loop?)");
    default:
      throw std::runtime_error(what + ": cannot read it: " + std::strerror(err));
  }
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

void generate_master_key_file(const fs::path& out, base::Random& random) {
  // O_EXCL: an existing master key may be the only one that opens a database's secrets; replacing it by mistake
  // would lock every node out, so this never overwrites, whatever the file holds.
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST)
      throw std::runtime_error(out.string() +
                               " already exists: not overwriting it (secrets sealed under that master key open only "
                               "with it); choose another path, or move the file away if you really mean to replace "
                               "it");
    if (err == ENOENT) throw std::runtime_error("cannot create " + out.string() + ": its directory does not exist");
    if (err == EACCES || err == EPERM)
      throw std::runtime_error("cannot create " + out.string() + ": permission denied");
    throw std::runtime_error("cannot create " + out.string() + ": " + std::strerror(err));
  }
  std::array<std::uint8_t, 32> key{};
  random.fill(key);
  const std::string text =
      "# boltauth master key: every node and CLI call of one database needs this same file; keep it private\n" +
      base::base64url_encode(key) + "\n";
  OPENSSL_cleanse(key.data(), key.size());
  // The umask may only have narrowed 0600; fchmod makes it exactly 0600 either way.
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(out.c_str());
    throw std::runtime_error("cannot write " + out.string() + ": " + std::strerror(err));
  }
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // the new name survives a power cut
    ::close(dfd);
  }
}

MasterKey load_master_key(const fs::path& path) {
  const Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw_open_error(path, errno);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw_open_error(path, errno);
  const std::string what = flag_text(path);
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(what + ": is a directory, not a master key file");
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(what + ": is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > kMaxFileSize)
    throw std::runtime_error(what + ": too large to be a master key file (" + std::to_string(st.st_size) + " bytes)");
  std::string text(kMaxFileSize + 1, '\0');
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(file.fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_open_error(path, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (got == text.size()) throw std::runtime_error(what + ": too large to be a master key file");
  }
  text.resize(got);

  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    lines.push_back(std::move(line));
  }
  const std::string expected =
      " (expected one line of 43 base64url characters, 32 bytes, as `boltauth master-key generate` writes)";
  if (lines.empty()) throw std::runtime_error(what + ": holds no key" + expected);
  if (lines.size() > 1) throw std::runtime_error(what + ": holds more than one line of text" + expected);
  const auto bytes = base::base64url_decode(lines[0]);
  OPENSSL_cleanse(text.data(), text.size());
  if (!bytes) throw std::runtime_error(what + ": the key is not base64url" + expected);
  if (bytes->size() != 32)
    throw std::runtime_error(what + ": the key is " + std::to_string(bytes->size()) + " bytes, not 32" + expected);
  MasterKey key;
  std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
  key.file = path;
  if ((st.st_mode & 077) != 0)
    key.warning = "the master key file " + path.string() + " is open to other users (mode " + octal_mode(st.st_mode) +
                  "): whoever reads it can open every secret in the database; `chmod 600` it";
  return key;
}

// ---- SecretCipher ------------------------------------------------------------------------------------------

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Fetched once and never freed, as crypto/ does: nothing depends on static destruction order versus OpenSSL's.
const EVP_CIPHER* aes_256_gcm() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL: AES-256-GCM is not available");
    return fetched;
  }();
  return cipher;
}

CipherCtx new_cipher_ctx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw std::runtime_error("OpenSSL: EVP_CIPHER_CTX_new failed");
  return ctx;
}

std::array<std::uint8_t, 32> hkdf_sha256(const std::array<std::uint8_t, 32>& ikm, std::string_view info) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) throw std::runtime_error("OpenSSL: HKDF is not available");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) throw std::runtime_error("OpenSSL: EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  std::array<std::uint8_t, 32> out{};
  const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) throw std::runtime_error("OpenSSL: HKDF failed");
  return out;
}

int int_size(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX / 2)) throw std::invalid_argument("secret too large");
  return static_cast<int>(n);
}

}  // namespace

SecretCipher::SecretCipher(const MasterKey& master) : key_(hkdf_sha256(master.bytes, kInfo)) {}

SecretCipher::~SecretCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string SecretCipher::associated_data(const core::ports::SecretRecord& record) {
  if (record.kind.find('|') != std::string::npos || record.alg.find('|') != std::string::npos)
    throw std::invalid_argument("a secret's kind and alg may not contain '|'");
  return record.kind + "|" + std::to_string(record.number) + "|" + record.alg + "|" +
         std::to_string(record.created_at) + "|" + std::to_string(record.activates_at);
}

std::string SecretCipher::seal(const core::ports::SecretRecord& record, std::string_view plaintext,
                               base::Random& random) const {
  const std::string aad = associated_data(record);
  std::string out(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* bytes = reinterpret_cast<std::uint8_t*>(out.data());
  bytes[0] = kVersion;
  std::uint8_t* nonce = bytes + 1;
  std::uint8_t* body = nonce + kNonceSize;
  std::uint8_t* tag = body + plaintext.size();
  random.fill(std::span<std::uint8_t>(nonce, kNonceSize));
  const auto ctx = new_cipher_ctx();
  int len = 0;
  int final_len = 0;
  const bool ok = EVP_EncryptInit_ex2(ctx.get(), aes_256_gcm(), key_.data(), nonce, nullptr) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const std::uint8_t*>(aad.data()),
                                    int_size(aad.size())) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), body, &len, reinterpret_cast<const std::uint8_t*>(plaintext.data()),
                                    int_size(plaintext.size())) == 1 &&
                  EVP_EncryptFinal_ex(ctx.get(), body + len, &final_len) == 1 &&
                  static_cast<std::size_t>(len + final_len) == plaintext.size() &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag) == 1;
  if (!ok) throw std::runtime_error("OpenSSL: AES-256-GCM encryption failed");
  return out;
}

std::optional<std::string> SecretCipher::open(const core::ports::SecretRecord& record) const {
  const std::string& sealed = record.sealed;
  if (sealed.size() < 1 + kNonceSize + kTagSize) return std::nullopt;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(sealed.data());
  if (bytes[0] != kVersion) return std::nullopt;
  const std::uint8_t* nonce = bytes + 1;
  const std::uint8_t* body = nonce + kNonceSize;
  const std::size_t body_size = sealed.size() - 1 - kNonceSize - kTagSize;
  std::array<std::uint8_t, kTagSize> tag{};
  std::copy(body + body_size, body + body_size + kTagSize, tag.begin());
  std::string aad;
  try {
    aad = associated_data(record);
  } catch (const std::invalid_argument&) {
    return std::nullopt;  // nothing this server seals has such a kind or alg
  }
  std::string plain(body_size, '\0');
  auto* out = reinterpret_cast<std::uint8_t*>(plain.data());
  const auto ctx = new_cipher_ctx();
  int len = 0;
  int final_len = 0;
  const bool ok = EVP_DecryptInit_ex2(ctx.get(), aes_256_gcm(), key_.data(), nonce, nullptr) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const std::uint8_t*>(aad.data()),
                                    int_size(aad.size())) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), out, &len, body, int_size(body_size)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag.data()) == 1 &&
                  EVP_DecryptFinal_ex(ctx.get(), out + len, &final_len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

}  // namespace boltauth::server
