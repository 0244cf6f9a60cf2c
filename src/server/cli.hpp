#pragma once

namespace boltauth::server {

/// `boltauth serve|client|account ...`: the shape other tools rely on (README "Command line").
int run_cli(int argc, char** argv);

}  // namespace boltauth::server
