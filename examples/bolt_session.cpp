// Keeps a Bolt Account session alive with the boltauth C++ SDK: exchanges a code, verifies the id_token against the
// issuer's JWKS, then refreshes the access token through a TokenManager, persisting each rotated refresh token.
//   bolt_session --server URL --client-id ID --client-secret S --code C
//                [--issuer URL] [--refreshes N] [--state-file PATH] [--max-retry-seconds N]
// Retries (server down, 503, 429) are reported on stderr and stop after N seconds (default 30).
// Prints one JSON line per step on stdout. Exit codes: 0 ok, 3 OAuth error, 4 other API error, 5 id_token refused.
#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "boltauth/boltauth.hpp"
#include "retry_report.hpp"

namespace {
// The id_token audience is the last section of the publishable key (contract section 1).
std::string last_section(const std::string& publishable_key) {
  const auto dot = publishable_key.rfind('.');
  return dot == std::string::npos ? publishable_key : publishable_key.substr(dot + 1);
}
}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--refreshes", "2"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || !args.count("--server") || !args.count("--client-id") || !args.count("--client-secret") ||
      !args.count("--code")) {
    std::cerr << "usage: bolt_session --server URL --client-id ID --client-secret S --code C [--issuer URL] "
                 "[--refreshes N] [--state-file PATH] [--max-retry-seconds N]\n";
    return 2;
  }
  try {
    boltauth::BoltOptions options;
    options.server_url = args["--server"];
    report_retries(options, args, "bolt_session");
    boltauth::Bolt bolt(options);

    boltauth::models::OAuthTokenInput body;
    body.client_id = args["--client-id"];
    body.client_secret = args["--client-secret"];
    body.code = args["--code"];
    body.scope = "bolt.account.manage openid";
    const auto first = bolt.o_auth().o_auth_token(body);

    boltauth::IdTokenVerifierOptions vopts;
    vopts.issuer = args.count("--issuer") ? args["--issuer"] : bolt.server_url();
    vopts.client_id = last_section(body.client_id);
    vopts.client_id_aliases = {body.client_id};
    boltauth::IdTokenVerifier verifier(bolt.options().transport, vopts);
    const boltauth::IdTokenClaims claims =
        verifier.verify(first.id_token.value_or(""), std::nullopt, first.access_token);
    std::cout << boost::json::serialize(boost::json::object{{"step", "id_token"},
                                                            {"sub", claims.sub},
                                                            {"email", claims.email.value_or("")},
                                                            {"first_name", claims.first_name.value_or("")},
                                                            {"last_name", claims.last_name.value_or("")}})
              << std::endl;

    boltauth::TokenManagerOptions mopts;
    mopts.client_id = body.client_id;
    mopts.client_secret = body.client_secret;
    const std::string state_file = args.count("--state-file") ? args["--state-file"] : "";
    boltauth::TokenManager manager(bolt, mopts, first.refresh_token.value_or(""),
                                   [&state_file](const std::string& refresh_token, const auto&) {
                                     // Persist before use: the previous refresh token is already dead.
                                     if (!state_file.empty())
                                       std::ofstream(state_file, std::ios::trunc) << refresh_token;
                                   });
    manager.set_tokens(first);
    const int refreshes = std::stoi(args["--refreshes"]);
    for (int i = 0; i < refreshes; ++i) {
      const std::string token = manager.refresh();
      std::cout << boost::json::serialize(boost::json::object{
                       {"step", "refresh"}, {"n", i + 1}, {"access_token_prefix", token.substr(0, 8)}})
                << std::endl;
    }
    std::cout << boost::json::serialize(boost::json::object{{"step", "done"}, {"refreshes", manager.refresh_count()}})
              << std::endl;
    return 0;
  } catch (const boltauth::errors::ErrorsOauthServerResponse& e) {
    std::cerr << boost::json::serialize(
                     boost::json::object{{"status", e.status_code()},
                                         {"error", e.data().error.value_or("")},
                                         {"error_description", e.data().error_description.value_or("")}})
              << "\n";
    return 3;
  } catch (const boltauth::errors::APIError& e) {
    std::cerr << e.what() << " (status " << e.status_code() << ")\n";
    return 4;
  } catch (const boltauth::errors::IdTokenError& e) {
    std::cerr << "id_token refused: " << e.what() << "\n";
    return 5;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}
