#include "server/key_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/base64url.hpp"

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

std::vector<crypto::SigningKey> KeyFiles::signing_keys(int rsa_bits) const {
  const fs::path signing = dir_ / "signing";
  ensure_private_dir(signing);
  auto list = [&signing] {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(signing))
      if (entry.path().extension() == ".pem") files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // names are zero-padded sequence numbers: publication order
    return files;
  };
  auto files = list();
  if (files.empty()) {
    auto key = crypto::SigningKey::generate_rsa(rsa_bits);
    write_once(signing / "0001.pem", key.private_pem());
    files = list();
  }
  std::vector<crypto::SigningKey> keys;
  for (const auto& f : files) keys.push_back(crypto::SigningKey::from_pem(read_file(f)));
  return keys;
}

}  // namespace boltauth::server
