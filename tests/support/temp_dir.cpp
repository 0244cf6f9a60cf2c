#include "support/temp_dir.hpp"

#include <stdexcept>
#include <string>

#include <stdlib.h>

namespace boltauth::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "boltauth-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace boltauth::testing
