// The admin command line of the real binary (`boltauth client ...`, `boltauth account create`, `serve --mode`),
// alone and next to a running server on the same data dir.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "integration/process_util.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {
namespace {

namespace fs = std::filesystem;

CommandResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), BOLTAUTH_BINARY);
  return run_command(args, std::chrono::seconds(30));
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

std::string s(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::vector<std::string> strings(const boost::json::object& o, const char* key) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = text.find(sep, start);
    out.push_back(text.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Every byte of the database files of `dir` (main file, WAL, shared memory, rollback journal).
std::string database_bytes(const fs::path& dir) {
  std::string all;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const fs::path f = dir / (std::string("boltauth.db") + suffix);
    if (fs::exists(f)) all += slurp(f);
  }
  return all;
}

/// `client create --json` run that must succeed; returns the parsed object.
boost::json::object create_client(const fs::path& dir, const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"client", "create", "--data-dir", dir.string(), "--name", name, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = cli(args);
  if (r.exit_code != 0) throw std::runtime_error("client create failed: " + describe(r));
  auto v = parse_json(r.out);
  if (!v.is_object()) throw std::runtime_error("client create --json did not print a JSON object: " + r.out);
  return v.as_object();
}

const std::regex kSecret("^[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}$");
const std::regex kHexId("^[0-9a-f]{64}$");

// ------------------------------------------------------------------------------------------------------------

TEST(Cli, ClientCreateRegistersPostLogoutRedirectUris) {
  TempDir dir;
  install_test_signing_key(dir.path());
  auto r = cli({"client", "create", "--data-dir", dir.path().string(), "--name", "Acme Shop", "--redirect-uri",
                "https://shop.example/cb", "--post-logout-redirect-uri", "https://shop.example/bye",
                "--post-logout-redirect-uri", "http://localhost:3000/bye", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto created = parse_json(r.out).as_object();
  EXPECT_EQ(strings(created, "post_logout_redirect_uris"),
            (std::vector<std::string>{"https://shop.example/bye", "http://localhost:3000/bye"}));
  auto shown = cli({"client", "show", s(created, "id"), "--data-dir", dir.path().string(), "--json"});
  ASSERT_EQ(shown.exit_code, 0) << describe(shown);
  EXPECT_EQ(strings(parse_json(shown.out).as_object(), "post_logout_redirect_uris"),
            (std::vector<std::string>{"https://shop.example/bye", "http://localhost:3000/bye"}));
  // Held to the rules of redirect URIs: absolute http(s), no fragment.
  auto bad = cli({"client", "create", "--data-dir", dir.path().string(), "--name", "Bad", "--redirect-uri",
                  "https://shop.example/cb", "--post-logout-redirect-uri", "https://shop.example/bye#x"});
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  EXPECT_NE(bad.err.find("post-logout"), std::string::npos) << bad.err;
}

TEST(Cli, ClientCreateJsonShape) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto before = static_cast<std::int64_t>(std::time(nullptr));
  auto r = cli({"client", "create", "--data-dir", dir.path().string(), "--name", "Acme Shop", "--redirect-uri",
                "https://shop.example/cb", "--redirect-uri", "http://localhost:3000/callback", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // Exactly one JSON line.
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  auto v = parse_json(r.out);
  ASSERT_TRUE(v.is_object()) << r.out;
  const auto& o = v.as_object();

  const auto client_id = s(o, "client_id");
  const auto parts = split(client_id, '.');
  ASSERT_EQ(parts.size(), 3u) << client_id;
  for (const auto& p : parts) EXPECT_FALSE(p.empty()) << client_id;
  EXPECT_EQ(parts[2], s(o, "id"));
  EXPECT_TRUE(std::regex_match(s(o, "id"), kHexId)) << s(o, "id");

  const auto secret = s(o, "client_secret");
  EXPECT_EQ(secret.size(), 87u) << secret;
  EXPECT_TRUE(std::regex_match(secret, kSecret)) << secret;

  EXPECT_EQ(s(o, "name"), "Acme Shop");
  EXPECT_EQ(strings(o, "redirect_uris"),
            (std::vector<std::string>{"https://shop.example/cb", "http://localhost:3000/callback"}));
  EXPECT_EQ(strings(o, "grant_types"), (std::vector<std::string>{"authorization_code", "refresh_token"}));
  ASSERT_TRUE(o.contains("created_at") && o.at("created_at").is_number()) << r.out;
  const auto created_at = o.at("created_at").to_number<std::int64_t>();
  EXPECT_GE(created_at, before - 5);
  EXPECT_LE(created_at, static_cast<std::int64_t>(std::time(nullptr)) + 5);

  // Two clients never share an id or a secret.
  auto other = create_client(dir.path(), "Other");
  EXPECT_NE(s(other, "id"), s(o, "id"));
  EXPECT_NE(s(other, "client_secret"), secret);
  EXPECT_TRUE(strings(other, "redirect_uris").empty());

  // An explicit single grant is kept as given.
  auto only_code = create_client(dir.path(), "Code only", {"--grant", "authorization_code"});
  EXPECT_EQ(strings(only_code, "grant_types"), (std::vector<std::string>{"authorization_code"}));
}

TEST(Cli, ClientCreateRejectsBadInputWithExitTwo) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  for (const auto& uri : {"not-a-url", "https://shop.example/cb#frag", "ftp://shop.example/cb", "https:///path"}) {
    auto r = cli({"client", "create", "--data-dir", d, "--name", "X", "--redirect-uri", uri, "--json"});
    EXPECT_EQ(r.exit_code, 2) << uri << "\n" << describe(r);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  for (const auto& grant : {"password", "implicit", "client_credentials_typo"}) {
    auto r = cli({"client", "create", "--data-dir", d, "--name", "X", "--grant", grant});
    EXPECT_EQ(r.exit_code, 2) << grant << "\n" << describe(r);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
  {
    auto r = cli({"client", "create", "--data-dir", d, "--name", "", "--json"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
  }
  {
    auto r = cli({"client", "create", "--data-dir", d});  // --name is required
    EXPECT_NE(r.exit_code, 0) << describe(r);
  }
  // None of the rejected calls left a client behind.
  auto list = cli({"client", "list", "--data-dir", d, "--json"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  auto v = parse_json(list.out);
  ASSERT_TRUE(v.is_array()) << list.out;
  EXPECT_TRUE(v.as_array().empty()) << list.out;
}

TEST(Cli, ClientListShowDeleteRotate) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  auto a = create_client(dir.path(), "Alpha", {"--redirect-uri", "https://alpha.example/cb"});
  auto b = create_client(dir.path(), "Beta");

  // list --json: both, no secrets.
  {
    auto r = cli({"client", "list", "--data-dir", d, "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto v = parse_json(r.out);
    ASSERT_TRUE(v.is_array()) << r.out;
    std::set<std::string> ids;
    for (const auto& e : v.as_array()) {
      ASSERT_TRUE(e.is_object());
      EXPECT_FALSE(e.as_object().contains("client_secret")) << r.out;
      EXPECT_FALSE(e.as_object().contains("secret_hash")) << r.out;
      ids.insert(s(e.as_object(), "client_id"));
    }
    EXPECT_EQ(ids, (std::set<std::string>{s(a, "client_id"), s(b, "client_id")}));
    EXPECT_EQ(r.out.find(s(a, "client_secret")), std::string::npos);
    auto plain = cli({"client", "list", "--data-dir", d});
    ASSERT_EQ(plain.exit_code, 0) << describe(plain);
    EXPECT_NE(plain.out.find(s(a, "client_id")), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("Beta"), std::string::npos) << plain.out;
    EXPECT_EQ(plain.out.find(s(a, "client_secret")), std::string::npos);
  }

  // show: by id (last section) and by the full publishable key; no secret.
  for (const auto& key : {s(a, "id"), s(a, "client_id")}) {
    auto r = cli({"client", "show", key, "--data-dir", d, "--json"});
    ASSERT_EQ(r.exit_code, 0) << key << "\n" << describe(r);
    auto v = parse_json(r.out);
    ASSERT_TRUE(v.is_object()) << r.out;
    EXPECT_EQ(s(v.as_object(), "client_id"), s(a, "client_id"));
    EXPECT_EQ(s(v.as_object(), "name"), "Alpha");
    EXPECT_EQ(strings(v.as_object(), "redirect_uris"), std::vector<std::string>{"https://alpha.example/cb"});
    EXPECT_FALSE(v.as_object().contains("client_secret")) << r.out;
  }
  // A publishable key whose first sections do not match is not that client.
  {
    auto r = cli({"client", "show", "xxxxxxxxxxxx.yyyyyyyyyyyy." + s(a, "id"), "--data-dir", d});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
  }
  // Unknown ids: exit 3 for show, delete and rotate-secret.
  const std::string unknown(64, 'f');
  for (const char* cmd : {"show", "delete", "rotate-secret"}) {
    auto r = cli({"client", cmd, unknown, "--data-dir", d});
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << describe(r);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }

  // rotate-secret: a new, well-formed secret; same client id.
  {
    auto r = cli({"client", "rotate-secret", s(a, "id"), "--data-dir", d, "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto v = parse_json(r.out);
    ASSERT_TRUE(v.is_object()) << r.out;
    const auto secret = s(v.as_object(), "client_secret");
    EXPECT_TRUE(std::regex_match(secret, kSecret)) << secret;
    EXPECT_NE(secret, s(a, "client_secret"));
    EXPECT_EQ(s(v.as_object(), "client_id"), s(a, "client_id"));
  }

  // delete: gone from show and list, the other one stays.
  {
    auto r = cli({"client", "delete", s(a, "client_id"), "--data-dir", d});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(cli({"client", "show", s(a, "id"), "--data-dir", d}).exit_code, 1);
    EXPECT_EQ(cli({"client", "delete", s(a, "id"), "--data-dir", d}).exit_code, 1);
    auto list = cli({"client", "list", "--data-dir", d, "--json"});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    auto v = parse_json(list.out);
    ASSERT_TRUE(v.is_array()) << list.out;
    ASSERT_EQ(v.as_array().size(), 1u) << list.out;
    EXPECT_EQ(s(v.as_array()[0].as_object(), "id"), s(b, "id"));
  }
}

TEST(Cli, AccountCreateJsonShapeAndDuplicates) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  auto r = cli({"account", "create", "--data-dir", d, "--email", "Jane.Doe@Example.com", "--first-name", "Jane",
                "--last-name", "Doe", "--phone", "+14155550100", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto v = parse_json(r.out);
  ASSERT_TRUE(v.is_object()) << r.out;
  const auto& o = v.as_object();
  EXPECT_FALSE(s(o, "sub").empty()) << r.out;
  EXPECT_EQ(s(o, "email"), "jane.doe@example.com");
  ASSERT_TRUE(o.contains("email_verified") && o.at("email_verified").is_bool()) << r.out;
  EXPECT_EQ(s(o, "first_name"), "Jane");
  EXPECT_EQ(s(o, "last_name"), "Doe");
  EXPECT_EQ(s(o, "phone"), "+14155550100");

  // Without a phone there is no phone key; subs differ.
  auto r2 = cli({"account", "create", "--data-dir", d, "--email", "john@example.com", "--json"});
  ASSERT_EQ(r2.exit_code, 0) << describe(r2);
  auto v2 = parse_json(r2.out);
  ASSERT_TRUE(v2.is_object()) << r2.out;
  EXPECT_FALSE(v2.as_object().contains("phone")) << r2.out;
  EXPECT_NE(s(v2.as_object(), "sub"), s(o, "sub"));

  // Duplicate email (also in another case), bad phone, bad email: exit 2 with an error line.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--email", "jane.doe@example.com"},
        std::vector<std::string>{"--email", "JANE.DOE@EXAMPLE.COM"},
        std::vector<std::string>{"--email", "new@example.com", "--phone", "4155550100"},
        std::vector<std::string>{"--email", "new@example.com", "--phone", "+1415abc0100"},
        std::vector<std::string>{"--email", "not-an-email"}}) {
    std::vector<std::string> full{"account", "create", "--data-dir", d, "--json"};
    full.insert(full.end(), args.begin(), args.end());
    auto bad = cli(full);
    EXPECT_EQ(bad.exit_code, 2) << args[1] << "\n" << describe(bad);
    EXPECT_EQ(bad.err.rfind("error: ", 0), 0u) << bad.err;
  }
}

TEST(Cli, DatabaseNeverHoldsClientSecrets) {
  // Checklist B4: only a keyed hash of an API key is stored.
  TempDir dir;
  install_test_signing_key(dir.path());
  std::vector<std::string> secrets;
  for (int i = 0; i < 3; ++i) {
    auto c = create_client(dir.path(), "Merchant " + std::to_string(i));
    secrets.push_back(s(c, "client_secret"));
    if (i == 0) {
      auto r = cli({"client", "rotate-secret", s(c, "id"), "--data-dir", dir.path().string(), "--json"});
      ASSERT_EQ(r.exit_code, 0) << describe(r);
      auto v = parse_json(r.out);
      ASSERT_TRUE(v.is_object()) << r.out;
      secrets.push_back(s(v.as_object(), "client_secret"));
    }
  }
  ASSERT_TRUE(fs::exists(dir.path() / "boltauth.db"));
  const auto bytes = database_bytes(dir.path());
  ASSERT_GT(bytes.size(), 0u);
  for (const auto& secret : secrets) {
    ASSERT_TRUE(std::regex_match(secret, kSecret)) << secret;
    EXPECT_EQ(bytes.find(secret), std::string::npos) << "the database holds the API key " << secret;
    // Neither half alone (the random part, the MAC part) is there either.
    EXPECT_EQ(bytes.find(secret.substr(0, 43)), std::string::npos) << secret;
    EXPECT_EQ(bytes.find(secret.substr(44)), std::string::npos) << secret;
  }
}

TEST(Cli, SealingKeysRotateAndListWithoutTheSecret) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const std::string d = dir.path().string();
  auto refused = cli({"keys", "rotate", "--sealing", "--alg", "ES256", "--data-dir", d});
  EXPECT_NE(refused.exit_code, 0) << describe(refused);
  auto rotated = cli({"keys", "rotate", "--sealing", "--data-dir", d});
  ASSERT_EQ(rotated.exit_code, 0) << describe(rotated);
  EXPECT_NE(rotated.out.find("sealing key 0002"), std::string::npos) << rotated.out;

  auto listed = cli({"keys", "list", "--data-dir", d, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << describe(listed);
  auto v = parse_json(listed.out);
  ASSERT_TRUE(v.is_array()) << listed.out;
  std::vector<boost::json::object> sealing;
  for (const auto& e : v.as_array()) {
    if (e.as_object().at("use").as_string() == "sealing") sealing.push_back(e.as_object());
  }
  ASSERT_EQ(sealing.size(), 2u) << listed.out;
  EXPECT_EQ(sealing[0].at("number").as_int64(), 1);
  EXPECT_EQ(sealing[0].at("state").as_string(), "opens");
  EXPECT_TRUE(sealing[0].at("opens_until").is_int64());
  EXPECT_EQ(sealing[1].at("number").as_int64(), 2);
  EXPECT_EQ(sealing[1].at("state").as_string(), "seals");

  auto text = cli({"keys", "list", "--data-dir", d});
  ASSERT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_NE(text.out.find("sealing 0002"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("opens until"), std::string::npos) << text.out;
  for (const auto& entry : fs::directory_iterator(dir.path() / "keys" / "sealing")) {
    if (entry.path().extension() != ".key") continue;
    std::ifstream in(entry.path());
    std::string header, secret;
    std::getline(in, header);
    std::getline(in, secret);
    ASSERT_EQ(secret.size(), 43u);
    EXPECT_EQ(listed.out.find(secret), std::string::npos) << "keys list --json prints a sealing secret";
    EXPECT_EQ(text.out.find(secret), std::string::npos) << "keys list prints a sealing secret";
    EXPECT_EQ(rotated.out.find(secret), std::string::npos) << "keys rotate prints a sealing secret";
  }
}

TEST(Cli, MasterKeyGenerateWritesAPrivateFileOnceAndNeverOverwrites) {
  TempDir dir;
  const fs::path file = dir.path() / "master.key";
  auto missing = cli({"master-key", "generate"});
  EXPECT_NE(missing.exit_code, 0) << "--out is required: " << describe(missing);
  auto made = cli({"master-key", "generate", "--out", file.string()});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  EXPECT_NE(made.out.find(file.string()), std::string::npos) << made.out;
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const std::string key = slurp(file);
  EXPECT_EQ(made.out.find(key.substr(key.find('\n') + 1, 43)), std::string::npos) << "the key is never printed";

  auto again = cli({"master-key", "generate", "--out", file.string()});
  EXPECT_EQ(again.exit_code, 1) << describe(again);
  EXPECT_NE(again.err.find("already exists: not overwriting it"), std::string::npos) << again.err;
  EXPECT_EQ(slurp(file), key);
}

// ------------------------------------------------------------------------------------------------------------

HttpResponse create_shopper(HttpClient& http, const std::string& secret) {
  return http.request("POST", "/v1/testing/shopper/create",
                      {{"X-API-Key", secret}, {"Content-Type", "application/json"}}, "{}");
}

std::string json_str(const HttpResponse& res, const char* key) {
  auto v = res.json();
  return v.is_object() ? s(v.as_object(), key) : std::string();
}

HttpResponse exchange(HttpClient& http, const std::string& client_id, const std::string& secret,
                      const std::string& code) {
  return http.post_form("/v1/oauth/token", form({{"grant_type", "authorization_code"},
                                                 {"code", code},
                                                 {"client_id", client_id},
                                                 {"client_secret", secret},
                                                 {"scope", "bolt.account.manage openid"}}));
}

HttpResponse refresh(HttpClient& http, const std::string& client_id, const std::string& secret,
                     const std::string& refresh_token) {
  return http.post_form("/v1/oauth/token", form({{"grant_type", "refresh_token"},
                                                 {"refresh_token", refresh_token},
                                                 {"client_id", client_id},
                                                 {"client_secret", secret},
                                                 {"scope", "bolt.account.view"}}));
}

int account_status(HttpClient& http, const std::string& access_token) {
  return http.get("/v1/account", {{"Authorization", "Bearer " + access_token}}).status;
}

TEST(CliWithServer, GrantTypesClientCredentialsIsServed) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  auto r = cli({"client", "create", "--data-dir", d, "--name", "Batch job", "--grant-types",
                "client_credentials,refresh_token", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto c = parse_json(r.out).as_object();
  EXPECT_EQ(strings(c, "grant_types"), (std::vector<std::string>{"client_credentials", "refresh_token"}));
  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  HttpClient http(server.port());
  auto res = http.post_form("/v1/oauth/token", form({{"grant_type", "client_credentials"},
                                                     {"client_id", s(c, "client_id")},
                                                     {"client_secret", s(c, "client_secret")},
                                                     {"scope", "bolt.account.view"}}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_FALSE(res.json().as_object().contains("refresh_token"));
}

TEST(CliWithServer, RunningServerSeesCliChangesAtOnce) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  ServerProcess server(BOLTAUTH_BINARY, dir.path());
  HttpClient http(server.port());

  // A client made by the CLI while the server runs is usable at once.
  auto c = create_client(dir.path(), "Live merchant");
  const auto id = s(c, "client_id");
  const auto secret = s(c, "client_secret");
  auto shopper = create_shopper(http, secret);
  ASSERT_EQ(shopper.status, 200) << shopper.body;
  const auto code = json_str(shopper, "oauth_code");
  auto tokens = exchange(http, id, secret, code);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  const auto access = json_str(tokens, "access_token");
  const auto refresh_token = json_str(tokens, "refresh_token");
  EXPECT_EQ(account_status(http, access), 200);
  // The last section alone is accepted as client_id too (contract section 1).
  auto shopper2 = create_shopper(http, secret);
  ASSERT_EQ(shopper2.status, 200) << shopper2.body;
  auto tokens2 = exchange(http, s(c, "id"), secret, json_str(shopper2, "oauth_code"));
  EXPECT_EQ(tokens2.status, 200) << tokens2.body;

  // Tokens and codes are not stored in the clear either (contract 3: only a hash of the token).
  {
    const auto bytes = database_bytes(dir.path());
    EXPECT_EQ(bytes.find(secret), std::string::npos);
    EXPECT_EQ(bytes.find(access), std::string::npos) << "access token stored in the clear";
    EXPECT_EQ(bytes.find(refresh_token), std::string::npos) << "refresh token stored in the clear";
    EXPECT_EQ(bytes.find(code), std::string::npos) << "authorization code stored in the clear";
  }

  // rotate-secret: the old API key dies at once on the running server, the new one works.
  auto rot = cli({"client", "rotate-secret", id, "--data-dir", d, "--json"});
  ASSERT_EQ(rot.exit_code, 0) << describe(rot);
  auto rv = parse_json(rot.out);
  ASSERT_TRUE(rv.is_object()) << rot.out;
  const auto new_secret = s(rv.as_object(), "client_secret");
  ASSERT_NE(new_secret, secret);
  {
    auto old = refresh(http, id, secret, refresh_token);
    EXPECT_EQ(old.status, 401) << old.body;
    EXPECT_EQ(json_str(old, "error"), "invalid_client") << old.body;
    auto old_shopper = create_shopper(http, secret);
    EXPECT_NE(old_shopper.status, 200) << "the rotated-away API key still creates shoppers: " << old_shopper.body;
    auto fresh = refresh(http, id, new_secret, refresh_token);
    EXPECT_EQ(fresh.status, 200) << fresh.body;
    auto s3 = create_shopper(http, new_secret);
    ASSERT_EQ(s3.status, 200) << s3.body;
    auto t3 = exchange(http, id, new_secret, json_str(s3, "oauth_code"));
    EXPECT_EQ(t3.status, 200) << t3.body;
  }
  // Access tokens issued before the rotation keep working (rotation is about the API key, not the grants).
  EXPECT_EQ(account_status(http, access), 200);

  // delete: everything issued to the client stops working on the running server.
  auto del = cli({"client", "delete", id, "--data-dir", d});
  ASSERT_EQ(del.exit_code, 0) << describe(del);
  EXPECT_EQ(account_status(http, access), 401);
  EXPECT_EQ(account_status(http, json_str(tokens2, "access_token")), 401);
  auto after = exchange(http, id, new_secret, "x");
  EXPECT_EQ(after.status, 401) << after.body;
  EXPECT_EQ(json_str(after, "error"), "invalid_client") << after.body;
  EXPECT_NE(create_shopper(http, new_secret).status, 200);

  // The server is unharmed by all this and stops cleanly.
  ASSERT_TRUE(server.process().signal(SIGTERM));
  auto status = server.process().wait_exit(std::chrono::seconds(15));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(exit_code_of(*status), 0) << server.process().stderr_text();
}

TEST(CliWithServer, ProductionModeHasNoSandboxAndNoDemoClient) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  ServerProcess server(BOLTAUTH_BINARY, dir.path(), {"--mode", "production"});
  EXPECT_FALSE(server.demo_client_id().has_value()) << server.process().stdout_text();
  EXPECT_FALSE(server.demo_client_secret().has_value());
  EXPECT_EQ(server.process().stdout_text().find("client_secret"), std::string::npos) << server.process().stdout_text();

  // No client was created behind our back.
  auto list = cli({"client", "list", "--data-dir", d, "--json"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  auto lv = parse_json(list.out);
  ASSERT_TRUE(lv.is_array()) << list.out;
  EXPECT_TRUE(lv.as_array().empty()) << list.out;

  // With a valid API key the sandbox endpoint still does not exist.
  auto c = create_client(dir.path(), "Prod merchant");
  HttpClient http(server.port());
  auto res = create_shopper(http, s(c, "client_secret"));
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_EQ(json_str(res, "oauth_code"), "") << res.body;
  auto res2 = create_shopper(http, "garbage");
  EXPECT_EQ(res2.status, 404) << res2.body;
  // The rest of the server is there.
  EXPECT_EQ(http.get("/v1/oauth/jwks.json").status, 200);
  auto tok = exchange(http, s(c, "client_id"), s(c, "client_secret"), "unknown-code");
  EXPECT_EQ(tok.status, 422) << tok.body;
}

TEST(CliWithServer, ServeRejectsBadArguments) {
  TempDir dir;
  auto r = cli({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.path().string(), "--mode", "staging"});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("mode"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << r.out;
  auto r2 = cli({"serve", "--listen", "127.0.0.1:99999", "--data-dir", dir.path().string()});
  EXPECT_NE(r2.exit_code, 0) << describe(r2);
  EXPECT_EQ(r2.out.find("listening on"), std::string::npos) << r2.out;
}

TEST(Cli, PkceIsRequiredByDefaultAndNoPkceTurnsItOff) {
  TempDir dir;
  install_test_signing_key(dir.path());
  const auto d = dir.path().string();
  auto strict = create_client(dir.path(), "Strict", {"--redirect-uri", "https://a.example/cb"});
  auto relaxed = create_client(dir.path(), "Relaxed", {"--redirect-uri", "https://a.example/cb", "--no-pkce"});
  EXPECT_TRUE(strict.at("pkce_required").as_bool());
  EXPECT_FALSE(relaxed.at("pkce_required").as_bool());
  auto show = cli({"client", "show", s(relaxed, "client_id"), "--data-dir", d, "--json"});
  ASSERT_EQ(show.exit_code, 0) << describe(show);
  EXPECT_FALSE(parse_json(show.out).as_object().at("pkce_required").as_bool());
  auto plain = cli({"client", "show", s(strict, "client_id"), "--data-dir", d});
  EXPECT_NE(plain.out.find("pkce_required: yes"), std::string::npos) << plain.out;
}

// --- usage, exit codes and first-day errors ---------------------------------------------------------------

TEST(CliUsage, HelpAndVersionAreCommandsThatSucceed) {
  const auto help = cli({"help"});
  EXPECT_EQ(help.exit_code, 0) << describe(help);
  for (const char* command : {"serve", "client", "account", "keys", "migrate", "janitor"})
    EXPECT_NE(help.out.find(command), std::string::npos) << command << "\n" << help.out;
  const auto serve_help = cli({"help", "serve"});
  EXPECT_EQ(serve_help.exit_code, 0) << describe(serve_help);
  EXPECT_NE(serve_help.out.find("--listen"), std::string::npos) << serve_help.out;
  const auto dash_help = cli({"--help"});
  EXPECT_EQ(dash_help.exit_code, 0) << describe(dash_help);
  for (const auto& r : {cli({"version"}), cli({"--version"})}) {
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out.rfind("boltauth ", 0), 0u) << r.out;
    EXPECT_EQ(r.out.find("subcommand is required"), std::string::npos) << r.out;
  }
}

TEST(CliUsage, AMistypedCommandIsNamedWithASuggestionAndExitsTwo) {
  const auto r = cli({"clinet", "list"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("unknown command 'clinet'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Did you mean 'client'?"), std::string::npos) << r.err;
  const auto far = cli({"frobnicate"});
  EXPECT_EQ(far.exit_code, 2) << describe(far);
  EXPECT_EQ(far.err.find("Did you mean"), std::string::npos) << far.err;
  EXPECT_NE(cli({"help", "srve"}).err.find("Did you mean 'serve'?"), std::string::npos);
  const auto none = cli({});
  EXPECT_EQ(none.exit_code, 2) << describe(none);
}

TEST(CliUsage, UsageErrorsExitTwoAndRangesAreChecked) {
  TempDir dir;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"serve", "--threads", "-1", "--data-dir", dir.path().string()},
        std::vector<std::string>{"serve", "--threads", "0", "--data-dir", dir.path().string()},
        std::vector<std::string>{"keys", "rotate", "--activation-delay", "-5", "--data-dir", dir.path().string()},
        std::vector<std::string>{"serve", "--no-such-flag"}, std::vector<std::string>{"client"},
        std::vector<std::string>{"client", "create", "--data-dir", dir.path().string()}}) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << "\n" << describe(r);
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(CliUsage, ReadOnlyCommandsNeverCreateADataDir) {
  TempDir dir;
  const fs::path missing = dir.path() / "nothing-here";
  for (std::vector<std::string> args :
       {std::vector<std::string>{"client", "list"}, std::vector<std::string>{"client", "show", "abc"},
        std::vector<std::string>{"keys", "list"}, std::vector<std::string>{"janitor"}}) {
    auto with_dir = args;
    with_dir.insert(with_dir.end(), {"--data-dir", missing.string()});
    const auto r = cli(with_dir);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("no boltauth data in " + missing.string()), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(missing)) << args[0];
  }
  // Without --data-dir, from a directory that has no ./data: nothing is created either, not even by a command
  // that adds something (the default may not be what was meant).
  for (const char* command : {"client list", "client create --name Shop", "keys rotate"}) {
    const auto r =
        run_command({"/bin/sh", "-c", "cd '" + dir.path().string() + "' && exec " + BOLTAUTH_BINARY + " " + command});
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << describe(r);
    EXPECT_NE(r.err.find("(default ./data)"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir.path() / "data")) << command;
  }
  // Told where, a command that adds something sets the data dir up.
  const auto made = cli({"client", "create", "--name", "Shop", "--data-dir", (dir.path() / "new").string()});
  EXPECT_EQ(made.exit_code, 0) << describe(made);
}

TEST(CliUsage, FilesystemProblemsAreSaidInWords) {
  TempDir dir;
  const fs::path file = dir.path() / "a-file";
  std::ofstream(file) << "x";
  const auto r = cli({"migrate", "--data-dir", (file / "data").string()});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(r.err.rfind("error: cannot ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find((file / "data").string() + ": Not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("filesystem error"), std::string::npos) << r.err;
}

TEST(CliUsage, KeysListShowsIso8601Dates) {
  TempDir dir;
  install_test_signing_key(dir.path());
  ASSERT_EQ(cli({"migrate", "--data-dir", dir.path().string()}).exit_code, 0);
  const auto r = cli({"keys", "list", "--data-dir", dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(RS256 +\w+ +\S+ +\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(sealing +\d{4} +\d+ +\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)")))
      << r.out;
}

/// `serve --listen LISTEN` on a fresh data dir: the issuer it reports in discovery.
std::string issuer_when_listening_on(const std::string& listen, std::string* stderr_text = nullptr) {
  TempDir dir;
  ChildProcess server({BOLTAUTH_BINARY, "serve", "--listen", listen, "--data-dir", dir.path().string()});
  const auto line = server.wait_for_line([](const std::string& l) { return l.rfind("listening on ", 0) == 0; }, 20s);
  if (!line) return "did not start: " + server.stderr_text();
  // "listening on URL": fetched with curl, which speaks IPv6 too (-g: brackets are an address, not a glob).
  const std::string url = line->substr(std::string("listening on ").size());
  const auto res =
      run_command({"/usr/bin/curl", "-s", "-g", "--max-time", "10", url + "/.well-known/openid-configuration"});
  server.signal(SIGTERM);
  server.wait_exit(30s);
  server.join_reader();
  if (stderr_text) *stderr_text = server.stderr_text() + server.stdout_text();
  const auto doc = parse_json(res.out);
  if (res.exit_code != 0 || !doc.is_object()) return "discovery at " + url + " failed: " + describe(res);
  return std::string(doc.as_object().at("issuer").as_string());
}

TEST(CliUsage, ListenAcceptsLocalhostIpv6AndEveryInterfaceWithACorrectIssuer) {
  EXPECT_TRUE(std::regex_match(issuer_when_listening_on("localhost:0"), std::regex(R"(http://localhost:\d+)")));
  // IPv6 loopback, bracketed in the URL (RFC 3986 section 3.2.2). Skipped silently nowhere: a machine without
  // IPv6 on lo fails to listen, which the message shows.
  EXPECT_TRUE(std::regex_match(issuer_when_listening_on("[::1]:0"), std::regex(R"(http://\[::1\]:\d+)")));
  std::string log;
  EXPECT_TRUE(std::regex_match(issuer_when_listening_on("0.0.0.0:0", &log), std::regex(R"(http://127\.0\.0\.1:\d+)")));
  EXPECT_NE(log.find("set --issuer to the URL clients use"), std::string::npos) << log;
}

TEST(CliUsage, ProductionWithAnHttpIssuerWarns) {
  TempDir dir;
  ChildProcess server(
      {BOLTAUTH_BINARY, "serve", "--listen", "127.0.0.1:0", "--mode", "production", "--data-dir", dir.path().string()});
  ASSERT_TRUE(server.wait_for_line([](const std::string& l) { return l.rfind("listening on ", 0) == 0; }, 20s));
  server.signal(SIGTERM);
  server.wait_exit(30s);
  server.join_reader();
  const std::string all = server.stderr_text() + server.stdout_text();
  EXPECT_NE(all.find("relying parties need an https issuer"), std::string::npos) << all;
  // No client yet: what to do next.
  EXPECT_NE(all.find("No clients yet"), std::string::npos) << all;
  EXPECT_NE(all.find("boltauth client create --data-dir " + dir.path().string()), std::string::npos) << all;
}

// --- the sandbox demo always works -------------------------------------------------------------------------

/// GET /demo, then the authorization request its button links to: the login page (200), not an error page.
void expect_demo_works(std::uint16_t port) {
  HttpClient http(port);
  const auto demo = http.get("/demo");
  ASSERT_EQ(demo.status, 200) << demo.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(demo.body, m, std::regex(R"re(id="login" href="http://[^/]+(/[^"]+)")re")))
      << demo.body;
  std::string path = m[1];
  for (std::size_t at; (at = path.find("&amp;")) != std::string::npos;) path.replace(at, 5, "&");
  const auto login = http.get(path);
  EXPECT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(login.body.find("Invalid redirect URI"), std::string::npos);
}

TEST(CliWithServer, DemoWorksAfterAFailedFirstStartAndOnAnotherPort) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  {
    // A first start that fails: the port is taken.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const auto failed =
        cli({"serve", "--listen", "127.0.0.1:" + std::to_string(ntohs(a.sin_port)), "--data-dir", data.string()});
    ::close(fd);
    EXPECT_EQ(failed.exit_code, 1) << describe(failed);
  }
  std::string first_id;
  {
    ServerProcess server(BOLTAUTH_BINARY, data);
    ASSERT_TRUE(server.demo_client_id()) << "the next start creates the demo client: "
                                         << server.process().stdout_text();
    first_id = *server.demo_client_id();
    expect_demo_works(server.port());
  }
  {
    // Another port, so another issuer: the same demo client, now also registered for this issuer's callback.
    ServerProcess server(BOLTAUTH_BINARY, data);
    EXPECT_FALSE(server.demo_client_id()) << server.process().stdout_text();
    expect_demo_works(server.port());
    const auto shown = cli({"client", "show", first_id, "--data-dir", data.string(), "--json"});
    ASSERT_EQ(shown.exit_code, 0) << describe(shown);
    EXPECT_EQ(strings(parse_json(shown.out).as_object(), "redirect_uris").size(), 2u) << shown.out;
  }
}

TEST(CliWithServer, DemoWorksOnADataDirTheCliSetUpFirst) {
  TempDir dir;
  create_client(dir.path() / "data", "Shop");
  ServerProcess server(BOLTAUTH_BINARY, dir.path() / "data");
  EXPECT_TRUE(server.demo_client_id()) << server.process().stdout_text();
  expect_demo_works(server.port());
}

// --- backup and restore ---------------------------------------------------------------------------------

TEST(CliWithServer, BackupWhileServingRestoresIntoANewDirWhereEveryTokenStillWorks) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  const fs::path file = dir.path() / "backup.db";
  std::string client_id, secret, access, refresh;
  {
    ServerProcess server(BOLTAUTH_BINARY, data);
    ASSERT_TRUE(server.demo_client_id());
    client_id = *server.demo_client_id();
    secret = *server.demo_client_secret();
    HttpClient http(server.port());
    const auto shopper = http.request("POST", "/v1/testing/shopper/create",
                                      {{"X-API-Key", secret}, {"Content-Type", "application/json"}}, "{}");
    ASSERT_EQ(shopper.status, 200) << shopper.body;
    const std::string code(shopper.json().as_object().at("oauth_code").as_string());
    const auto tokens =
        http.post_form("/v1/oauth/token", "grant_type=authorization_code&code=" + code + "&client_id=" + client_id +
                                              "&client_secret=" + secret + "&scope=bolt.account.manage+openid");
    ASSERT_EQ(tokens.status, 200) << tokens.body;
    access = std::string(tokens.json().as_object().at("access_token").as_string());
    refresh = std::string(tokens.json().as_object().at("refresh_token").as_string());
    // Online: the server keeps running while the copy is made.
    const auto made = cli({"backup", "--data-dir", data.string(), "--out", file.string()});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(http.get("/healthz").status, 200);
    // Never over a file that exists.
    EXPECT_EQ(cli({"backup", "--data-dir", data.string(), "--out", file.string()}).exit_code, 1);
  }
  // Into a new dir; never into one that holds something.
  const fs::path restored = dir.path() / "restored";
  EXPECT_EQ(cli({"restore", "--from", file.string(), "--data-dir", data.string()}).exit_code, 1);
  const auto r = cli({"restore", "--from", file.string(), "--data-dir", restored.string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(fs::exists(restored / "keys" / "master.key"));
  EXPECT_EQ(fs::status(restored / "keys" / "master.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // The restored database does not carry the key material inside it.
  const std::string master = slurp(data / "keys" / "master.key");
  EXPECT_EQ(database_bytes(restored).find(master), std::string::npos);

  ServerProcess server(BOLTAUTH_BINARY, restored);
  HttpClient http(server.port());
  const auto introspected = http.post_form("/v1/oauth/introspect",
                                           "token=" + access + "&client_id=" + client_id + "&client_secret=" + secret);
  ASSERT_EQ(introspected.status, 200) << introspected.body;
  EXPECT_TRUE(introspected.json().as_object().at("active").as_bool()) << introspected.body;
  EXPECT_EQ(http.get("/v1/account", {{"Authorization", "Bearer " + access}}).status, 200);
  const auto refreshed = http.post_form("/v1/oauth/token", "grant_type=refresh_token&refresh_token=" + refresh +
                                                               "&client_id=" + client_id + "&client_secret=" + secret +
                                                               "&scope=bolt.account.view");
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
}

TEST(CliUsage, BackupRefusesWhatItCannotCopy) {
  TempDir dir;
  const auto pg = cli({"backup", "--store-url", "postgresql://u@127.0.0.1:1/db", "--out", (dir.path() / "b").string()});
  EXPECT_EQ(pg.exit_code, 2) << describe(pg);
  EXPECT_NE(pg.err.find("pg_dump"), std::string::npos) << pg.err;
  const auto none =
      cli({"backup", "--data-dir", (dir.path() / "nothing").string(), "--out", (dir.path() / "b").string()});
  EXPECT_EQ(none.exit_code, 1) << describe(none);
  std::ofstream(dir.path() / "not-a-backup") << "hello";
  const auto bad =
      cli({"restore", "--from", (dir.path() / "not-a-backup").string(), "--data-dir", (dir.path() / "new").string()});
  EXPECT_EQ(bad.exit_code, 1) << describe(bad);
  EXPECT_NE(bad.err.find("not a boltauth backup"), std::string::npos) << bad.err;
}

// --- settings: flags > environment > config file > defaults ------------------------------------------------

TEST(CliUsage, ConfigShowSaysEachSettingsValueAndWhereItCameFrom) {
  TempDir dir;
  const fs::path file = dir.path() / "boltauth.toml";
  std::ofstream(file) << "listen = \"127.0.0.1:9000\"\naccess_token_ttl = 100\nid_token_ttl = 50\n"
                         "[login]\notp_ttl = 120\n[smtp]\npassword = \"hunter2-secret\"\n";
  const auto r = run_command({"/usr/bin/env", "BOLTAUTH_ACCESS_TOKEN_TTL=200", "BOLTAUTH_LOGIN_OTP_TTL=240",
                              "BOLTAUTH_MODE=production", "BOLTAUTH_TRUSTED_PROXIES=10.0.0.0/8, 192.168.0.0/16",
                              "BOLTAUTH_NO_SUCH_SETTING=1", BOLTAUTH_BINARY, "config", "show", "--config",
                              file.string(), "--listen", "127.0.0.1:9100", "--json"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  std::map<std::string, std::pair<std::string, std::string>> got;
  const auto doc = parse_json(r.out);
  ASSERT_TRUE(doc.is_array()) << r.out;
  for (const auto& v : doc.as_array()) {
    const auto& o = v.as_object();
    got[s(o, "key")] = {s(o, "value"), s(o, "source")};
  }
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(got["listen"], P("127.0.0.1:9100", "flag --listen"));
  EXPECT_EQ(got["access_token_ttl"], P("200", "env BOLTAUTH_ACCESS_TOKEN_TTL"));
  EXPECT_EQ(got["id_token_ttl"], P("50", "file " + file.string()));
  EXPECT_EQ(got["login.otp_ttl"], P("240", "env BOLTAUTH_LOGIN_OTP_TTL"));
  EXPECT_EQ(got["mode"], P("production", "env BOLTAUTH_MODE"));
  EXPECT_EQ(got["trusted_proxies"], P("10.0.0.0/8,192.168.0.0/16", "env BOLTAUTH_TRUSTED_PROXIES"));
  EXPECT_EQ(got["smtp.password"], P("(redacted)", "file " + file.string()));
  EXPECT_EQ(got["refresh_token_ttl"].second, "default");
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << "secrets are redacted";
  EXPECT_NE(r.err.find("BOLTAUTH_NO_SUCH_SETTING names no setting"), std::string::npos) << r.err;
  // Text form: one line per setting.
  const auto text = run_command({"/usr/bin/env", "BOLTAUTH_CODE_TTL=77", BOLTAUTH_BINARY, "config", "show"});
  ASSERT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_TRUE(std::regex_search(text.out, std::regex("code_ttl +77 +env BOLTAUTH_CODE_TTL"))) << text.out;
}

TEST(CliUsage, ServeTakesEverySettingFromTheEnvironment) {
  TempDir dir;
  const fs::path data = dir.path() / "from-env";
  ChildProcess server({"/usr/bin/env", "BOLTAUTH_LISTEN=127.0.0.1:0", "BOLTAUTH_DATA_DIR=" + data.string(),
                       "BOLTAUTH_ACCESS_TOKEN_TTL=123", BOLTAUTH_BINARY, "serve"});
  const auto line = server.wait_for_line([](const std::string& l) { return l.rfind("listening on ", 0) == 0; }, 20s);
  ASSERT_TRUE(line) << server.stderr_text();
  EXPECT_TRUE(fs::exists(data / "boltauth.db"));
  // The token lifetime from the environment is the one the server issues with (the demo client printed at start).
  std::string id, secret;
  for (const auto& l : server.stdout_lines()) {
    std::smatch m;
    if (std::regex_search(l, m, std::regex(R"(^  client_id: +(\S+))"))) id = m[1];
    if (std::regex_search(l, m, std::regex(R"(^  client_secret: +(\S+))"))) secret = m[1];
  }
  ASSERT_FALSE(id.empty()) << server.stdout_text();
  HttpClient http(static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1))));
  const auto shopper = http.request("POST", "/v1/testing/shopper/create",
                                    {{"X-API-Key", secret}, {"Content-Type", "application/json"}}, "{}");
  ASSERT_EQ(shopper.status, 200) << shopper.body;
  const auto tokens = http.post_form(
      "/v1/oauth/token",
      "grant_type=authorization_code&code=" + std::string(shopper.json().as_object().at("oauth_code").as_string()) +
          "&client_id=" + id + "&client_secret=" + secret + "&scope=openid");
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  EXPECT_EQ(tokens.json().as_object().at("expires_in").as_int64(), 123);
  server.signal(SIGTERM);
  server.wait_exit(30s);
  server.join_reader();
  // A bad value is an error naming the variable, not a silent default.
  const auto bad = run_command({"/usr/bin/env", "BOLTAUTH_ACCESS_TOKEN_TTL=soon", BOLTAUTH_BINARY, "config", "show"});
  EXPECT_EQ(bad.exit_code, 1) << describe(bad);
  EXPECT_NE(bad.err.find("BOLTAUTH_ACCESS_TOKEN_TTL"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace boltauth::testing
