// CTest's postgres fixture: `pg_cluster_main start DIR` starts one throwaway cluster for the whole test run and
// writes its maintenance URL to DIR/url (and its directory to DIR/cluster); `pg_cluster_main stop DIR` stops it and
// removes it. A cluster a killed run left behind is removed by the next start.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "support/pg_cluster.hpp"

namespace fs = std::filesystem;
using boltauth::testing::PgCluster;

namespace {

void destroy_recorded(const fs::path& state) {
  std::ifstream in(state / "cluster");
  std::string dir;
  if (std::getline(in, dir) && !dir.empty()) PgCluster::destroy(dir);
  fs::remove(state / "cluster");
  fs::remove(state / "url");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[1]) != "start" && std::string_view(argv[1]) != "stop")) {
    std::cerr << "usage: pg_cluster_main start|stop STATE_DIR\n";
    return 2;
  }
  const fs::path state = argv[2];
  try {
    destroy_recorded(state);
    if (std::string_view(argv[1]) == "stop") return 0;
    fs::create_directories(state);
    PgCluster cluster;
    // Recorded before the watchdog goes: from then on a killed run's cluster is removed by the next start.
    std::ofstream(state / "cluster") << cluster.directory().string() << "\n";
    cluster.detach();
    std::ofstream(state / "url.tmp") << cluster.maintenance_url() << "\n";
    fs::rename(state / "url.tmp", state / "url");
    std::cout << "postgres test cluster at " << cluster.maintenance_url() << " in " << cluster.directory() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
