// Several `boltauth serve` nodes on one PostgreSQL database, black-box over real HTTP: what one node writes, the
// others see at once; single use holds across nodes; secrets, throttles and attempt limits are shared.
#include <gtest/gtest.h>

#include <barrier>
#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <thread>

#include "base/base64url.hpp"
#include "integration/process_util.hpp"
#include "protocol/form.hpp"
#include "support/http_client.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::testing {
namespace {

const std::string kBinary = BOLTAUTH_BINARY;
const std::string kCb = "https://merchant.example/cb";

/// One database, one master key and `n` nodes serving it (sandbox mode, each with its own data dir).
class Nodes {
 public:
  explicit Nodes(int n, const std::vector<std::string>& extra = {}) {
    url_ = PgCluster::shared().create_database();
    master_key_ = dir_.path() / "master.key";
    expect_ok(run_command({kBinary, "master-key", "generate", "--out", master_key_.string()}));
    expect_ok(run_command({kBinary, "migrate", "--store-url", url_}));
    auto created =
        run_command({kBinary, "client", "create", "--store-url", url_, "--master-key-file", master_key_.string(),
                     "--name", "Shop", "--redirect-uri", kCb, "--grant", "authorization_code,refresh_token", "--json"});
    expect_ok(created);
    const auto o = boost::json::parse(created.out).as_object();
    client_id_ = std::string(o.at("client_id").as_string());
    client_secret_ = std::string(o.at("client_secret").as_string());
    for (int i = 0; i < n; ++i) add_node(extra);
  }

  ServerProcess& add_node(const std::vector<std::string>& extra = {}) {
    const auto data = dir_.path() / ("node" + std::to_string(nodes_.size()));
    std::vector<std::string> args{"--store-url", url_, "--master-key-file", master_key_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    nodes_.push_back(std::make_unique<ServerProcess>(kBinary, data, args));
    data_dirs_.push_back(data);
    return *nodes_.back();
  }

  std::uint16_t port(std::size_t i) const { return nodes_.at(i)->port(); }
  ServerProcess& node(std::size_t i) { return *nodes_.at(i); }
  const std::filesystem::path& data_dir(std::size_t i) const { return data_dirs_.at(i); }
  const std::string& url() const { return url_; }
  const std::filesystem::path& master_key() const { return master_key_; }
  const std::string& client_id() const { return client_id_; }
  const std::string& client_secret() const { return client_secret_; }
  std::vector<std::string> cli(std::vector<std::string> args) const {
    args.insert(args.begin(), kBinary);
    for (const std::string& a :
         {std::string("--store-url"), url_, std::string("--master-key-file"), master_key_.string()})
      args.push_back(a);
    return args;
  }

  /// A sandbox authorization code made through node `i`.
  std::string sandbox_code(std::size_t i) {
    HttpClient http(port(i));
    auto r = http.request("POST", "/v1/testing/shopper/create",
                          {{"X-API-Key", client_secret_}, {"Content-Type", "application/json"}}, "{}");
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(r.json().as_object().at("oauth_code").as_string());
  }
  std::string token_form(const std::vector<std::pair<std::string, std::string>>& grant) const {
    auto pairs = grant;
    pairs.emplace_back("client_id", client_id_);
    pairs.emplace_back("client_secret", client_secret_);
    return form(pairs);
  }
  std::string code_form(const std::string& code) const {
    return token_form({{"grant_type", "authorization_code"}, {"code", code}, {"scope", "bolt.account.manage openid"}});
  }
  std::string refresh_form(const std::string& refresh) const {
    return token_form({{"grant_type", "refresh_token"}, {"refresh_token", refresh}, {"scope", "bolt.account.view"}});
  }

  static void expect_ok(const CommandResult& r) {
    ASSERT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  }

 private:
  TempDir dir_;
  std::string url_;
  std::filesystem::path master_key_;
  std::string client_id_, client_secret_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::vector<std::filesystem::path> data_dirs_;
};

struct Tally {
  int ok = 0;
  int refused = 0;  // 4xx
  int server_errors = 0;
  std::string sample;
  std::vector<std::string> bodies_ok;
};

/// Sends `body` to the token endpoint from every connection at once (connection i talks to its own node).
Tally fire(std::vector<std::unique_ptr<HttpClient>>& conns, const std::string& target, const std::string& body) {
  std::vector<HttpResponse> results(conns.size());
  std::barrier start(static_cast<std::ptrdiff_t>(conns.size()));
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < conns.size(); ++i)
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        results[i] = conns[i]->post_form(target, body);
      });
  }
  Tally t;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++t.ok;
      t.bodies_ok.push_back(r.body);
    } else if (r.status >= 400 && r.status < 500) {
      ++t.refused;
    } else {
      ++t.server_errors;
      t.sample = std::to_string(r.status) + " " + r.body;
    }
  }
  return t;
}

std::string field(const HttpResponse& r, const char* name) {
  const auto v = r.json();
  if (!v.is_object() || !v.as_object().contains(name)) return {};
  return std::string(v.as_object().at(name).as_string());
}

/// 16 keep-alive connections to each of two nodes.
std::vector<std::unique_ptr<HttpClient>> split_connections(Nodes& nodes) {
  std::vector<std::unique_ptr<HttpClient>> conns;
  for (int i = 0; i < 32; ++i)
    conns.push_back(std::make_unique<HttpClient>(nodes.port(static_cast<std::size_t>(i % 2))));
  return conns;
}

/// Node i's `boltauth_store_write_conflicts_total`: requests whose predicted write lost at its batch and that
/// were run again (-1 when the scrape has no such line).
double write_conflicts(Nodes& nodes, std::size_t i) {
  HttpClient h(nodes.port(i));
  const std::string body = h.get("/metrics").body;
  const std::string name = "\nboltauth_store_write_conflicts_total ";
  const auto at = body.find(name);
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size()));
}

TEST(MultiNode, ACodeIssuedThroughOneNodeRedeemsOnAnother) {
  Nodes nodes(2);
  const auto code = nodes.sandbox_code(0);
  HttpClient b(nodes.port(1));
  auto r = b.post_form("/v1/oauth/token", nodes.code_form(code));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(field(r, "id_token").empty());
  // The access token works on both nodes.
  for (std::size_t i = 0; i < 2; ++i) {
    HttpClient h(nodes.port(i));
    auto account = h.get("/v1/account", {{"Authorization", "Bearer " + field(r, "access_token")}});
    EXPECT_EQ(account.status, 200) << "node " << i << ": " << account.body;
  }
  // A second redemption on the first node loses.
  HttpClient a(nodes.port(0));
  EXPECT_EQ(a.post_form("/v1/oauth/token", nodes.code_form(code)).status, 422);
}

TEST(MultiNode, ThirtyTwoRedemptionsOfOneCodeSplitAcrossTwoNodesExactlyOneWins) {
  Nodes nodes(2);
  auto conns = split_connections(nodes);
  for (int round = 0; round < 200; ++round) {
    const auto code = nodes.sandbox_code(static_cast<std::size_t>(round % 2));
    const auto t = fire(conns, "/v1/oauth/token", nodes.code_form(code));
    ASSERT_EQ(t.server_errors, 0) << "round " << round << ": " << t.sample;
    ASSERT_EQ(t.ok, 1) << "round " << round;
    ASSERT_EQ(t.refused, 31) << "round " << round;
  }
  // Losers were found both ways: at their read (the code already redeemed) and at their batch (the write their
  // read predicted changed nothing, and the request ran again): the second path answered too, without a 5xx.
  EXPECT_GT(write_conflicts(nodes, 0) + write_conflicts(nodes, 1), 0);
}

TEST(MultiNode, ThirtyTwoRefreshesOfOneTokenSplitAcrossTwoNodesExactlyOneWins) {
  Nodes nodes(2);
  auto conns = split_connections(nodes);
  HttpClient a(nodes.port(0));
  // A fresh family each round: the 31 losers presented a token their family had just replaced, which is reuse
  // and revokes the family (RFC 9700 section 4.14.2), so a chained family would end after one round.
  for (int round = 0; round < 200; ++round) {
    auto first =
        a.post_form("/v1/oauth/token", nodes.code_form(nodes.sandbox_code(static_cast<std::size_t>(round % 2))));
    ASSERT_EQ(first.status, 200) << first.body;
    const auto t = fire(conns, "/v1/oauth/token", nodes.refresh_form(field(first, "refresh_token")));
    ASSERT_EQ(t.server_errors, 0) << "round " << round << ": " << t.sample;
    ASSERT_EQ(t.ok, 1) << "round " << round;
    ASSERT_EQ(t.refused, 31) << "round " << round;
  }
  EXPECT_GT(write_conflicts(nodes, 0) + write_conflicts(nodes, 1), 0);
}

TEST(MultiNode, RefreshOnOneNodeRacingRevokeOnTheOtherLeavesNothingAlive) {
  Nodes nodes(2);
  HttpClient a(nodes.port(0)), b(nodes.port(1));
  for (int round = 0; round < 40; ++round) {
    auto first = a.post_form("/v1/oauth/token", nodes.code_form(nodes.sandbox_code(0)));
    ASSERT_EQ(first.status, 200) << first.body;
    const auto refresh = field(first, "refresh_token");
    HttpResponse refreshed, revoked;
    {
      std::barrier start(2);
      std::jthread t1([&] {
        start.arrive_and_wait();
        refreshed = a.post_form("/v1/oauth/token", nodes.refresh_form(refresh));
      });
      std::jthread t2([&] {
        start.arrive_and_wait();
        revoked = b.post_form("/v1/oauth/revoke", nodes.token_form({{"token", refresh}}));
      });
    }
    ASSERT_EQ(revoked.status, 200) << revoked.body;
    ASSERT_TRUE(refreshed.status == 200 || refreshed.status == 422) << refreshed.status << " " << refreshed.body;
    // Whichever came first, the family is revoked: neither refresh token nor any access token is alive.
    std::vector<std::string> tokens{refresh, field(first, "access_token")};
    if (refreshed.status == 200) {
      tokens.push_back(field(refreshed, "refresh_token"));
      tokens.push_back(field(refreshed, "access_token"));
    }
    for (const auto& token : tokens) {
      for (auto* h : {&a, &b}) {
        auto r = h->post_form("/v1/oauth/introspect", nodes.token_form({{"token", token}}));
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_FALSE(r.json().as_object().at("active").as_bool()) << "round " << round;
      }
    }
  }
}

TEST(MultiNode, ARevocationOnOneNodeIsSeenByTheVeryNextRequestOnAnother) {
  Nodes nodes(2);
  HttpClient a(nodes.port(0)), b(nodes.port(1));
  for (int round = 0; round < 20; ++round) {
    auto tokens = a.post_form("/v1/oauth/token", nodes.code_form(nodes.sandbox_code(1)));
    ASSERT_EQ(tokens.status, 200) << tokens.body;
    const auto access = field(tokens, "access_token");
    ASSERT_EQ(b.get("/v1/account", {{"Authorization", "Bearer " + access}}).status, 200);
    ASSERT_EQ(a.post_form("/v1/oauth/revoke", nodes.token_form({{"token", access}})).status, 200);
    EXPECT_EQ(b.get("/v1/account", {{"Authorization", "Bearer " + access}}).status, 401) << "round " << round;
    auto r = b.post_form("/v1/oauth/introspect", nodes.token_form({{"token", access}}));
    EXPECT_FALSE(r.json().as_object().at("active").as_bool());
  }
}

TEST(MultiNode, KeysRotatedThroughTheCliAreServedByEveryNode) {
  Nodes nodes(2);
  HttpClient a(nodes.port(0)), b(nodes.port(1));
  const auto before = a.get("/v1/oauth/jwks.json").body;
  ASSERT_EQ(before, b.get("/v1/oauth/jwks.json").body);
  Nodes::expect_ok(run_command(nodes.cli({"keys", "rotate", "--alg", "RS256", "--activation-delay", "0"})));
  // Nodes look for new secrets at most once a second.
  std::string ja, jb;
  for (int i = 0; i < 50; ++i) {
    ja = a.get("/v1/oauth/jwks.json").body;
    jb = b.get("/v1/oauth/jwks.json").body;
    if (ja != before && ja == jb) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(ja, before);
  EXPECT_EQ(ja, jb);
  // An id_token from either node names a kid both publish.
  for (std::size_t i = 0; i < 2; ++i) {
    HttpClient h(nodes.port(i));
    auto r = h.post_form("/v1/oauth/token", nodes.code_form(nodes.sandbox_code(i)));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto id_token = field(r, "id_token");
    const auto header = base::base64url_decode(id_token.substr(0, id_token.find('.')));
    ASSERT_TRUE(header);
    const auto kid =
        std::string(boost::json::parse(std::string(header->begin(), header->end())).as_object().at("kid").as_string());
    EXPECT_NE(ja.find(kid), std::string::npos) << kid;
    EXPECT_NE(jb.find(kid), std::string::npos) << kid;
  }
  // A sealing key rotated through the CLI seals on every node, and each node opens what the other sealed.
  Nodes::expect_ok(run_command(nodes.cli({"keys", "rotate", "--sealing"})));
  std::this_thread::sleep_for(1100ms);
  for (std::size_t i = 0; i < 2; ++i) {
    HttpClient h(nodes.port(i)), other(nodes.port(1 - i));
    auto r = h.post_form("/v1/oauth/token", nodes.code_form(nodes.sandbox_code(i)));
    ASSERT_EQ(r.status, 200) << r.body;
    auto again = other.post_form("/v1/oauth/token", nodes.refresh_form(field(r, "refresh_token")));
    EXPECT_EQ(again.status, 200) << again.body;
  }
}

TEST(MultiNode, FailedClientAuthenticationIsCountedAcrossNodes) {
  // The default: 10 failures within 60 s hold the client off (from that address) on every node.
  Nodes nodes(2);
  HttpClient a(nodes.port(0)), b(nodes.port(1));
  const auto wrong = form({{"grant_type", "refresh_token"},
                           {"refresh_token", "x"},
                           {"client_id", nodes.client_id()},
                           {"client_secret", "wrong-secret"}});
  for (int i = 0; i < 10; ++i) {
    auto r = (i % 2 ? b : a).post_form("/v1/oauth/token", wrong);
    ASSERT_EQ(r.status, 401) << "attempt " << i << ": " << r.body;
  }
  // Five failures per node, ten in all: both nodes now refuse even the right secret.
  const auto right = nodes.refresh_form("not-a-token");
  for (auto* h : {&a, &b}) {
    auto r = h->post_form("/v1/oauth/token", right);
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_TRUE(r.header("retry-after"));
  }
}

/// The login handle of a login page.
std::string login_handle(const std::string& body) {
  std::smatch m;
  static const std::regex re("name=\"login\" value=\"([^\"]+)\"");
  return std::regex_search(body, m, re) ? m[1].str() : std::string();
}

std::string last_otp(const std::filesystem::path& data_dir, const std::string& email) {
  std::ifstream in(data_dir / "outbox" / "otp.jsonl");
  std::string line, code;
  while (std::getline(in, line)) {
    const auto v = boost::json::parse(line).as_object();
    if (v.at("to").as_string() == email) code = std::string(v.at("code").as_string());
  }
  return code;
}

TEST(MultiNode, OneTimeCodeGuessesAreLimitedAcrossNodes) {
  Nodes nodes(2);
  HttpClient a(nodes.port(0)), b(nodes.port(1));
  const std::string target =
      "/v1/oauth/authorize?response_type=code&client_id=" + protocol::form_encode(nodes.client_id()) +
      "&redirect_uri=" + protocol::form_encode(kCb) + "&scope=openid&state=s&code_challenge=" + std::string(43, 'A') +
      "&code_challenge_method=S256";
  auto page = a.get(target);
  ASSERT_EQ(page.status, 200) << page.body;
  std::string cookie;
  for (const auto& [k, v] : page.headers)
    if (k == "set-cookie") cookie += (cookie.empty() ? "" : "; ") + v.substr(0, v.find(';'));
  // A same-origin form post, as the login page's browser sends it.
  Headers jar{{"Sec-Fetch-Site", "same-origin"}};
  if (!cookie.empty()) jar.emplace_back("Cookie", cookie);
  const auto handle = login_handle(page.body);
  ASSERT_FALSE(handle.empty());
  auto sent = a.post_form("/v1/oauth/login-email", form({{"login", handle}, {"email", "guess@example.com"}}), jar);
  ASSERT_EQ(sent.status, 303) << sent.body;  // POST-redirect-GET to the code page
  const auto code = last_otp(nodes.data_dir(0), "guess@example.com");
  ASSERT_EQ(code.size(), 6U);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  // Five guesses in all, alternating nodes: the sixth (the right code) is refused on either node.
  for (int i = 0; i < 5; ++i) {
    auto r = (i % 2 ? b : a).post_form("/v1/oauth/login-otp", form({{"login", handle}, {"otp", wrong}}), jar);
    ASSERT_EQ(r.status, 303) << "guess " << i << ": " << r.body;
    EXPECT_NE(r.header("location").value_or("").find("m=wrong"), std::string::npos) << "guess " << i;
  }
  auto r = b.post_form("/v1/oauth/login-otp", form({{"login", handle}, {"otp", code}}), jar);
  ASSERT_EQ(r.status, 303);
  const auto step = r.header("location").value_or("");
  EXPECT_NE(step.find("m=spent"), std::string::npos) << step;
  // The page it leads to, on the other node, says why.
  auto shown = a.get("/v1/oauth/" + step, jar);
  EXPECT_EQ(shown.status, 400);
  EXPECT_NE(shown.body.find("Too many wrong codes"), std::string::npos) << shown.body;
}

TEST(MultiNode, TwoJanitorsAtOnceRemoveEachExpiredRowOnce) {
  TempDir conf;
  std::ofstream(conf.path() / "short.toml") << "code_ttl = 1\n";
  Nodes nodes(1, {"--config", (conf.path() / "short.toml").string()});
  for (int i = 0; i < 40; ++i) nodes.sandbox_code(0);
  std::this_thread::sleep_for(2100ms);  // every code expired
  CommandResult r1, r2;
  {
    std::barrier start(2);
    std::jthread t1([&] {
      start.arrive_and_wait();
      r1 = run_command(nodes.cli({"janitor", "--json"}));
    });
    std::jthread t2([&] {
      start.arrive_and_wait();
      r2 = run_command(nodes.cli({"janitor", "--json"}));
    });
  }
  Nodes::expect_ok(r1);
  Nodes::expect_ok(r2);
  const auto c1 = boost::json::parse(r1.out).as_object().at("codes").as_int64();
  const auto c2 = boost::json::parse(r2.out).as_object().at("codes").as_int64();
  EXPECT_EQ(c1 + c2, 40);
  // Nothing is left for a third.
  auto r3 = run_command(nodes.cli({"janitor", "--json"}));
  Nodes::expect_ok(r3);
  EXPECT_EQ(boost::json::parse(r3.out).as_object().at("codes").as_int64(), 0);
}

// What an operator meets first: the refusals at start are clear, name the fix, and leave the database as it was.
TEST(PostgresStart, UnmigratedDatabaseMissingOrWrongMasterKeyAreRefusedNamingTheFix) {
  TempDir dir;
  const std::string url = PgCluster::shared().create_database();
  const auto key = dir.path() / "master.key";
  const auto other_key = dir.path() / "other.key";
  Nodes::expect_ok(run_command({kBinary, "master-key", "generate", "--out", key.string()}));
  Nodes::expect_ok(run_command({kBinary, "master-key", "generate", "--out", other_key.string()}));
  const auto serve = [&](const std::vector<std::string>& more) {
    std::vector<std::string> argv{
        kBinary, "serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.path() / "data").string(), "--store-url", url};
    argv.insert(argv.end(), more.begin(), more.end());
    return run_command(argv);
  };

  auto unmigrated = serve({"--master-key-file", key.string()});
  EXPECT_NE(unmigrated.exit_code, 0);
  EXPECT_NE(unmigrated.err.find("boltauth migrate --store-url " + url), std::string::npos) << unmigrated.err;
  EXPECT_EQ(PgCluster::shared().query(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0")
      << "serve created tables on an unmigrated database";

  auto first = run_command({kBinary, "migrate", "--store-url", url});
  Nodes::expect_ok(first);
  EXPECT_NE(first.out.find("from version 0"), std::string::npos) << first.out;
  auto second = run_command({kBinary, "migrate", "--store-url", url});
  Nodes::expect_ok(second);
  EXPECT_NE(second.out.find("current"), std::string::npos) << "idempotent: " << second.out;

  auto no_key = serve({});
  EXPECT_NE(no_key.exit_code, 0);
  EXPECT_NE(no_key.err.find("--master-key-file"), std::string::npos) << no_key.err;

  // The first node to start seals the database's secrets under its key; a node with another key is refused and
  // creates nothing in their place.
  Nodes::expect_ok(run_command({kBinary, "keys", "list", "--store-url", url, "--master-key-file", key.string()}));
  const std::string secrets_before = PgCluster::shared().query(url, "SELECT count(*) FROM secrets");
  auto wrong = serve({"--master-key-file", other_key.string()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("master key"), std::string::npos) << wrong.err;
  EXPECT_EQ(PgCluster::shared().query(url, "SELECT count(*) FROM secrets"), secrets_before);
}

}  // namespace
}  // namespace boltauth::testing
