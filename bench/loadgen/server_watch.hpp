#pragma once
#include <sys/types.h>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace boltauth::bench {

/// The `write_bytes` line of a /proc/<pid>/io text: bytes the process caused to be sent to the storage layer
/// (counted when a page is dirtied, so SQLite's WAL writes and in-process checkpoints both count). nullopt when
/// the line is missing.
std::optional<std::uint64_t> parse_write_bytes(std::string_view proc_io_text);

/// write_bytes of a running process, read from /proc/<pid>/io; nullopt when it cannot be read (gone, or no
/// permission).
std::optional<std::uint64_t> read_write_bytes(pid_t pid);

/// Apparent size (st_size, not allocated blocks) of the store files of a boltauth data dir: boltauth.db,
/// boltauth.db-wal and boltauth.db-shm; a missing file counts 0.
std::uint64_t store_bytes(const std::filesystem::path& data_dir);

}  // namespace boltauth::bench
