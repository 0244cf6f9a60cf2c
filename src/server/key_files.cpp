#include "server/key_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/base64url.hpp"
#include "base/random.hpp"

namespace boltauth::server {
namespace fs = std::filesystem;

void ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create directory " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `content` to `path` unless it exists; returns what `path` holds afterwards.
std::string write_once(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  const bool ok =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp.string());
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST)
    throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(link_errno));
  if (const int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::fsync(dfd);  // the new name survives power loss
    ::close(dfd);
  }
  return read_file(path);
}

}  // namespace

std::array<std::uint8_t, 32> KeyFiles::master_key(base::Random& random) const {
  ensure_private_dir(dir_);
  const fs::path path = dir_ / "master.key";
  std::string text;
  if (fs::exists(path)) {
    text = read_file(path);
  } else {
    std::array<std::uint8_t, 32> fresh{};
    random.fill(fresh);
    text = write_once(path, base::base64url_encode(fresh) + "\n");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const auto bytes = base::base64url_decode(text);
  if (!bytes || bytes->size() != 32) throw std::runtime_error(path.string() + " does not hold a 32-byte base64url key");
  std::array<std::uint8_t, 32> key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

namespace {

constexpr std::string_view kBegin = "-----BEGIN ";

// Numbered key files in publication order (numeric, so 10000.pem sorts after 9999.pem).
std::vector<std::pair<long, fs::path>> list_key_files(const fs::path& signing, std::string_view ext = ".pem") {
  std::vector<std::pair<long, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(signing)) {
    const auto& p = entry.path();
    if (p.extension() != ext) continue;
    const std::string stem = p.stem().string();
    if (stem.empty() || !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    files.emplace_back(std::stol(stem), p);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string file_name(long n, std::string_view ext = ".pem") {
  std::string s = std::to_string(n);
  if (s.size() < 4) s.insert(0, 4 - s.size(), '0');
  return s + std::string(ext);
}

// Holds an exclusive flock(2) on the signing dir's lock file: `keys rotate` and starting servers never pick the
// same number or both create a missing alg's key.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) : fd_(::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + (dir / ".lock").string() + ": " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~DirLock() { ::close(fd_); }  // closing releases the lock
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_;
};

// Adds `key` as the next numbered file. link(2) refuses an existing name, so even without the lock two
// writers cannot overwrite each other: the loser takes the next number.
// Returns the number of the new file.
long add_key_file(const fs::path& signing, const std::string& text, std::string_view ext = ".pem") {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto files = list_key_files(signing, ext);
    const long next = files.empty() ? 1 : files.back().first + 1;
    const fs::path path = signing / file_name(next, ext);
    if (write_once(path, text) == text) return next;
  }
  throw std::runtime_error("cannot add a key file in " + signing.string());
}

std::int64_t header_int(const std::string& value, const char* name) {
  try {
    std::size_t used = 0;
    const std::int64_t v = std::stoll(value, &used);
    if (used == value.size()) return v;
  } catch (const std::exception&) {
  }
  throw std::runtime_error(std::string("bad ") + name + " in key file header");
}

}  // namespace

std::string key_file_text(const crypto::SigningKey& key, base::UnixSeconds created_at, base::UnixSeconds activates_at) {
  return "boltauth-alg: " + key.alg() + "\nboltauth-created-at: " + std::to_string(created_at) +
         "\nboltauth-activates-at: " + std::to_string(activates_at) + "\n" + key.private_pem();
}

core::ScheduledKey parse_key_file(const std::string& text) {
  const auto begin = text.find(kBegin);
  if (begin == std::string::npos) throw std::runtime_error("no PEM block in key file");
  core::ScheduledKey k;
  std::string alg;
  std::istringstream header(text.substr(0, begin));
  for (std::string line; std::getline(header, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    const auto colon = line.find(": ");
    if (colon == std::string::npos) throw std::runtime_error("bad key file header line: " + line);
    const std::string name = line.substr(0, colon);
    const std::string value = line.substr(colon + 2);
    if (name == "boltauth-alg")
      alg = value;
    else if (name == "boltauth-created-at")
      k.created_at = header_int(value, "created-at");
    else if (name == "boltauth-activates-at")
      k.activates_at = header_int(value, "activates-at");
    else
      throw std::runtime_error("unknown key file header " + name);
  }
  k.key = std::make_shared<const crypto::SigningKey>(crypto::SigningKey::from_pem(text.substr(begin)));
  if (!alg.empty() && alg != k.key->alg())
    throw std::runtime_error("key file says " + alg + " but holds an " + k.key->alg() + " key");
  return k;
}

void KeyFiles::ensure_signing_keys(int rsa_bits, base::UnixSeconds now) const {
  const fs::path signing = signing_dir();
  ensure_private_dir(signing);
  DirLock lock(signing);
  std::vector<std::string> have;
  for (const auto& [n, path] : list_key_files(signing)) have.push_back(parse_key_file(read_file(path)).key->alg());
  for (const auto& alg : crypto::SigningKey::supported_algs()) {
    if (std::find(have.begin(), have.end(), alg) != have.end()) continue;
    const auto key = crypto::SigningKey::generate(alg, rsa_bits);
    add_key_file(signing, key_file_text(key, now, now));
  }
}

core::ScheduledKey KeyFiles::rotate(const std::string& alg, int rsa_bits, base::UnixSeconds now,
                                    std::int64_t activation_delay) const {
  const fs::path signing = signing_dir();
  ensure_private_dir(signing);
  auto key = crypto::SigningKey::generate(alg, rsa_bits);
  const std::string text = key_file_text(key, now, now + activation_delay);
  {
    DirLock lock(signing);
    add_key_file(signing, text);
  }
  if (const int dfd = ::open(signing.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::futimens(dfd, nullptr);  // a fresh mtime even within the same clock tick: servers notice at once
    ::close(dfd);
  }
  return core::ScheduledKey{std::make_shared<const crypto::SigningKey>(std::move(key)), now, now + activation_delay};
}

std::vector<core::ScheduledKey> KeyFiles::scheduled_keys() const {
  std::vector<core::ScheduledKey> keys;
  const fs::path signing = signing_dir();
  if (!fs::exists(signing)) return keys;
  for (const auto& [n, path] : list_key_files(signing)) keys.push_back(parse_key_file(read_file(path)));
  return keys;
}

KeyDirectory::KeyDirectory(fs::path signing_dir, std::int64_t id_token_ttl)
    : dir_(std::move(signing_dir)), ttl_(id_token_ttl) {
  std::lock_guard lock(mutex_);
  reload();
}

KeyDirectory::Stamp KeyDirectory::stamp() const {
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) return {};
  // The mtime alone can miss two changes within one timestamp tick; key files are only ever added, so the
  // number of entries settles it (a few entries: one short readdir).
  std::uint64_t entries = 0;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (::readdir(d) != nullptr) ++entries;
    ::closedir(d);
  }
  return Stamp{static_cast<std::int64_t>(st.st_mtim.tv_sec), static_cast<std::int64_t>(st.st_mtim.tv_nsec), entries};
}

void KeyDirectory::reload() {
  const Stamp seen = stamp();
  std::map<std::string, core::ScheduledKey> fresh;
  for (const auto& [n, path] : list_key_files(dir_)) {
    const std::string name = path.filename().string();
    if (auto it = by_file_.find(name); it != by_file_.end())
      fresh.emplace(name, it->second);
    else
      fresh.emplace(name, parse_key_file(read_file(path)));
  }
  by_file_ = std::move(fresh);
  loaded_ = seen;
  ring_.reset();
}

std::shared_ptr<const core::KeyRing> KeyDirectory::ring(base::UnixSeconds now) {
  const Stamp current = stamp();
  std::lock_guard lock(mutex_);
  // A rescan every minute as well, whatever the stamp says (belt and braces for odd filesystems).
  if (!(current == loaded_) || now - last_scan_ >= 60 || now < last_scan_) {
    try {
      reload();
    } catch (const std::exception&) {
      // A half-copied or foreign file must not take signing down: keep the keys loaded before.
      if (!ring_ && by_file_.empty()) throw;
    }
    last_scan_ = now;
  }
  if (!ring_ || now >= ring_->valid_until() || now < ring_->built_at()) {
    std::vector<core::ScheduledKey> keys;
    std::vector<std::pair<long, std::string>> order;
    for (const auto& [name, k] : by_file_) order.emplace_back(std::stol(name), name);
    std::sort(order.begin(), order.end());
    for (const auto& [n, name] : order) keys.push_back(by_file_.at(name));
    ring_ = std::make_shared<const core::KeyRing>(std::move(keys), now, ttl_);
  }
  return ring_;
}

// ---- sealing keys ------------------------------------------------------------------------------------------

namespace {

constexpr std::string_view kSealingExt = ".key";
constexpr std::string_view kCreatedAt = "boltauth-created-at: ";

void touch_dir(const fs::path& dir) {
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::futimens(dfd, nullptr);  // a fresh mtime even within the same clock tick: readers notice at once
    ::close(dfd);
  }
}

KeyFiles::SealingKeyFile read_sealing_key_file(const fs::path& path, long number) {
  try {
    return parse_sealing_key_file(read_file(path), number);
  } catch (const std::exception& e) {
    throw std::runtime_error("sealing key file " + path.string() + ": " + e.what());
  }
}

std::vector<KeyFiles::SealingKeyFile> read_sealing_dir(const fs::path& dir) {
  std::vector<KeyFiles::SealingKeyFile> keys;
  for (const auto& [n, path] : list_key_files(dir, kSealingExt)) keys.push_back(read_sealing_key_file(path, n));
  return keys;
}

}  // namespace

std::string sealing_key_file_text(const crypto::SealingKey& key) {
  return std::string(kCreatedAt) + std::to_string(key.created_at) + "\n" + base::base64url_encode(key.secret) + "\n";
}

// Strict: exactly the header line and the secret line, each ending in "\n"; anything else is an error, so a
// truncated or hand-edited file is noticed rather than half-read.
KeyFiles::SealingKeyFile parse_sealing_key_file(const std::string& text, long number) {
  if (number < 1) throw std::runtime_error("bad key number " + std::to_string(number));
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) throw std::runtime_error("last line does not end with a newline");
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() != 2) throw std::runtime_error("expected a boltauth-created-at line and a secret line");
  if (!lines[0].starts_with(kCreatedAt)) throw std::runtime_error("first line is not boltauth-created-at");
  const std::string value(lines[0].substr(kCreatedAt.size()));
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      value.size() > 15)
    throw std::runtime_error("bad boltauth-created-at value");
  const auto secret = base::base64url_decode(lines[1]);
  if (!secret || secret->size() != 32) throw std::runtime_error("the secret is not 32 bytes of base64url");
  KeyFiles::SealingKeyFile f;
  f.number = number;
  f.key.id = sealing_key_id(number);
  f.key.created_at = std::stoll(value);
  std::copy(secret->begin(), secret->end(), f.key.secret.begin());
  return f;
}

void KeyFiles::ensure_sealing_key(base::UnixSeconds now) const {
  const fs::path dir = sealing_dir();
  ensure_private_dir(dir);
  DirLock lock(dir);
  if (!list_key_files(dir, kSealingExt).empty()) return;
  crypto::SealingKey key;
  key.created_at = now;
  base::SystemRandom().fill(key.secret);
  add_key_file(dir, sealing_key_file_text(key), kSealingExt);
  touch_dir(dir);
}

KeyFiles::SealingKeyFile KeyFiles::rotate_sealing(base::UnixSeconds now) const {
  const fs::path dir = sealing_dir();
  ensure_private_dir(dir);
  SealingKeyFile f;
  f.key.created_at = now;
  base::SystemRandom().fill(f.key.secret);
  {
    DirLock lock(dir);
    f.number = add_key_file(dir, sealing_key_file_text(f.key), kSealingExt);
  }
  f.key.id = sealing_key_id(f.number);
  touch_dir(dir);
  return f;
}

std::vector<KeyFiles::SealingKeyFile> KeyFiles::sealing_key_files() const {
  const fs::path dir = sealing_dir();
  if (!fs::exists(dir)) return {};
  return read_sealing_dir(dir);
}

std::vector<crypto::SealingKey> KeyFiles::sealing_keys() const {
  std::vector<crypto::SealingKey> keys;
  for (auto& f : sealing_key_files()) keys.push_back(f.key);
  return keys;
}

SealingKeyDirectory::SealingKeyDirectory(fs::path sealing_dir, std::int64_t retention_seconds, base::UnixSeconds now)
    : dir_(std::move(sealing_dir)), retention_(retention_seconds) {
  std::lock_guard lock(mutex_);
  rescan();
  rebuild(now);
  last_look_ = last_full_scan_ = now;
}

std::shared_ptr<const crypto::TokenSealer> SealingKeyDirectory::sealer(base::UnixSeconds now) {
  return current(now, false);
}

std::shared_ptr<const crypto::TokenSealer> SealingKeyDirectory::reload(base::UnixSeconds now) {
  return current(now, true);
}

std::shared_ptr<const crypto::TokenSealer> SealingKeyDirectory::current(base::UnixSeconds now, bool force) {
  std::lock_guard lock(mutex_);
  // The key id of a token is chosen by whoever sends it, so forced looks are capped per second: a flood of
  // tokens naming unknown ids costs a few system calls a second, not one each. Under such a flood a genuine
  // rotation elsewhere is still seen by the next second's regular look.
  if (force) {
    if (now != forced_second_) {
      forced_second_ = now;
      forced_looks_ = 0;
    }
    force = ++forced_looks_ <= kForcedLooksPerSecond;
  }
  // Hot path: the same second as the last look and no retention boundary crossed: no system call at all.
  if (force || now != last_look_) {
    last_look_ = now;
    struct stat st {};
    std::uint64_t entries = 0;
    const bool seen = ::stat(dir_.c_str(), &st) == 0;
    if (seen) {
      // The mtime alone can miss two changes within one timestamp tick; files are only ever added, so the
      // number of entries settles it (as KeyDirectory).
      if (DIR* d = ::opendir(dir_.c_str())) {
        while (::readdir(d) != nullptr) ++entries;
        ::closedir(d);
      }
    }
    const bool changed =
        !seen || st.st_mtim.tv_sec != mtime_sec_ || st.st_mtim.tv_nsec != mtime_nsec_ || entries != entries_;
    // A full rescan every minute as well, whatever the stamp says (belt and braces for odd filesystems).
    if (force || changed || now - last_full_scan_ >= 60 || now < last_full_scan_) {
      try {
        const std::size_t before = by_number_.size();
        const long newest = by_number_.empty() ? 0 : by_number_.rbegin()->first;
        rescan();
        // Files are only ever added: the same count and newest number is the same key set, same sealer.
        if (by_number_.size() != before || by_number_.rbegin()->first != newest) sealer_.reset();
      } catch (const std::exception&) {
        // A half-copied or foreign file must not stop token issuance: keep the keys loaded before (the
        // constructor made sure there are some).
      }
      last_full_scan_ = now;
    }
  }
  if (!sealer_ || now >= valid_until_ || now < built_at_) rebuild(now);
  return sealer_;
}

void SealingKeyDirectory::rescan() {
  struct stat st {};
  const bool seen = ::stat(dir_.c_str(), &st) == 0;
  std::uint64_t entries = 0;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (::readdir(d) != nullptr) ++entries;
    ::closedir(d);
  }
  std::map<long, KeyFiles::SealingKeyFile> fresh;
  for (const auto& [n, path] : list_key_files(dir_, kSealingExt)) {
    if (auto it = by_number_.find(n); it != by_number_.end())
      fresh.emplace(n, it->second);
    else
      fresh.emplace(n, read_sealing_key_file(path, n));
  }
  if (fresh.empty()) throw std::runtime_error("no sealing key in " + dir_.string());
  by_number_ = std::move(fresh);
  mtime_sec_ = seen ? static_cast<std::int64_t>(st.st_mtim.tv_sec) : -1;
  mtime_nsec_ = seen ? static_cast<std::int64_t>(st.st_mtim.tv_nsec) : -1;
  entries_ = entries;
}

void SealingKeyDirectory::rebuild(base::UnixSeconds now) {
  std::vector<KeyFiles::SealingKeyFile> files;
  files.reserve(by_number_.size());
  for (const auto& [n, f] : by_number_) files.push_back(f);
  auto built = live_sealer(files, now, retention_);
  sealer_ = std::move(built.sealer);
  built_at_ = now;
  valid_until_ = built.valid_until;
}

std::unique_ptr<core::ports::KeySource> KeyFiles::key_source(std::int64_t id_token_ttl) const {
  return std::make_unique<KeyDirectory>(signing_dir(), id_token_ttl);
}

std::unique_ptr<core::ports::SealerSource> KeyFiles::sealer_source(std::int64_t retention_seconds,
                                                                   base::UnixSeconds now) const {
  return std::make_unique<SealingKeyDirectory>(sealing_dir(), retention_seconds, now);
}

}  // namespace boltauth::server
