#pragma once
// Shared by the fuzz targets: an oracle that stops the run (libFuzzer saves the input) when a property the
// parsers promise does not hold. A crash, a sanitizer report or one of these is a finding.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace boltauth::fuzz {

inline std::string_view as_view(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Splits the input at the first `sep` (several inputs from one buffer); the second part is empty when absent.
inline std::pair<std::string_view, std::string_view> split(std::string_view in, char sep) {
  const auto at = in.find(sep);
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + 1)};
}

}  // namespace boltauth::fuzz

#include <fstream>

namespace boltauth::fuzz {

/// `FUZZ_WRITE_SEEDS=DIR fuzz_<target>` writes the target's generated seeds (values only the project's fixed keys
/// can make, such as signed tokens) into DIR and exits: how fuzz/corpus/<target>/ got them.
inline const char* seed_dir() { return std::getenv("FUZZ_WRITE_SEEDS"); }
inline void write_seed(const std::string& name, std::string_view bytes) {
  std::ofstream(std::string(seed_dir()) + "/" + name, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace boltauth::fuzz
