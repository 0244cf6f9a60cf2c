#include "server_watch.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace boltauth::bench {

std::optional<std::uint64_t> parse_write_bytes(std::string_view text) {
  constexpr std::string_view key = "write_bytes:";
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    const auto line = text.substr(pos, end - pos);
    if (line.substr(0, key.size()) == key) {
      std::uint64_t value = 0;
      bool digits = false;
      for (char c : line.substr(key.size())) {
        if (c == ' ' || c == '\t') {
          if (digits) break;
          continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
        digits = true;
      }
      if (digits) return value;
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> read_write_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_write_bytes(text.str());
}

std::uint64_t store_bytes(const std::filesystem::path& data_dir) {
  std::uint64_t total = 0;
  for (const char* name : {"boltauth.db", "boltauth.db-wal", "boltauth.db-shm"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(data_dir / name, ec);
    if (!ec) total += size;
  }
  return total;
}

}  // namespace boltauth::bench
