// The config loader (server/config_loader): a TOML file and BOLTAUTH_* environment variables, as `serve` reads
// them. The input is the file; after a line `--env--`, each further line is one environment entry. Properties:
// bad input is a std::runtime_error naming the problem, never a crash or another exception; a loaded config
// passes its own validation or says why (Config::validate), and its effective settings print.
#include <unistd.h>
#include <fstream>

#include "fuzz_support.hpp"
#include "server/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace boltauth;
  static const std::string path = "/tmp/boltauth-fuzz-config-" + std::to_string(::getpid()) + ".toml";
  const auto input = fuzz::as_view(data, size);
  const auto marker = input.find("--env--\n");
  const auto file_text = input.substr(0, marker);
  std::vector<std::string> env;
  if (marker != std::string_view::npos) {
    for (std::string_view rest = input.substr(marker + 8); !rest.empty();) {
      const auto [line, tail] = fuzz::split(rest, '\n');
      env.emplace_back(line);
      if (tail.empty() && line.size() == rest.size()) break;
      rest = tail;
    }
  }
  std::vector<const char*> envp;
  for (const auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file_text.data(), static_cast<std::streamsize>(file_text.size()));
  }
  server::AppOptions options;
  server::ConfigSources sources;
  try {
    server::load_config_file(path, options, &sources);
    (void)server::load_config_env(options, envp.data(), &sources);
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(std::string_view(e.what()).size() > 0);
    return 0;
  }
  (void)options.config.validate();
  const auto settings = server::effective_settings(options);
  FUZZ_CHECK(!settings.empty());
  return 0;
}
