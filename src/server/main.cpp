#include "server/cli.hpp"

int main(int argc, char** argv) { return boltauth::server::run_cli(argc, argv); }
