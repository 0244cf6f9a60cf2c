// Exchanges an authorization code for tokens with the boltauth C++ SDK.
//   bolt_token_exchange --server URL --client-id ID --client-secret S --code C [--scope "a b"]
//                       [--max-retry-seconds N]
// Retries (server down, 503, 429) are reported on stderr and stop after N seconds (default 30).
// Prints the OAuthTokenResponse as JSON on stdout (exit 0). On an OAuth error response prints
// {"status":N,"error":"...","error_description":"..."} on stderr and exits 3; other API errors exit 4; usage 2.
#include <boost/json/serialize.hpp>
#include <iostream>
#include <map>
#include <string>

#include "boltauth/boltauth.hpp"
#include "retry_report.hpp"

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--scope", "bolt.account.manage openid"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || !args.count("--server") || !args.count("--client-id") || !args.count("--client-secret") ||
      !args.count("--code")) {
    std::cerr << "usage: bolt_token_exchange --server URL --client-id ID --client-secret S --code C [--scope \"a b\"] "
                 "[--max-retry-seconds N]\n";
    return 2;
  }
  try {
    boltauth::BoltOptions options;
    options.server_url = args["--server"];
    report_retries(options, args, "bolt_token_exchange");
    boltauth::Bolt bolt(options);
    boltauth::models::OAuthTokenInput body;
    body.client_id = args["--client-id"];
    body.client_secret = args["--client-secret"];
    body.code = args["--code"];
    body.scope = args["--scope"];
    const boltauth::models::OAuthTokenResponse response = bolt.o_auth().o_auth_token(body);
    std::cout << boltauth::models::to_json_string(response) << "\n";
    return 0;
  } catch (const boltauth::errors::ErrorsOauthServerResponse& e) {
    boost::json::object out{{"status", e.status_code()},
                            {"error", e.data().error.value_or("")},
                            {"error_description", e.data().error_description.value_or("")}};
    std::cerr << boost::json::serialize(out) << "\n";
    return 3;
  } catch (const boltauth::errors::APIError& e) {
    boost::json::object out{{"status", e.status_code()}, {"message", e.what()}, {"body", e.body()}};
    std::cerr << boost::json::serialize(out) << "\n";
    return 4;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}
