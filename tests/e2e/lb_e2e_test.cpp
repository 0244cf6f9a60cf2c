// Behind a load balancer: Debian's haproxy in front of two `boltauth serve` nodes on one PostgreSQL database, as
// docs/deployment.md describes it. The browser login flows (tests/e2e/browser/e2e.mjs pointed at the balancer) and
// the interop clients (python3-authlib, openid-client) run through it; requests are shown to alternate between the
// nodes; X-Forwarded-For and X-Forwarded-Proto are believed only from the trusted proxy (127.0.0.1, where haproxy
// connects from) and dropped from anyone else, which the failed-authentication throttle relies on.
//
// Every address in 127.0.0.0/8 is loopback: a test client that connects from 127.0.0.2 or 127.0.0.3 is a shopper
// at an address the nodes do not trust, while haproxy itself reaches the nodes from 127.0.0.1.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "base/base64url.hpp"
#include "base/random.hpp"
#include "crypto/digest.hpp"
#include "http/http_server.hpp"
#include "integration/process_util.hpp"
#include "protocol/form.hpp"
#include "support/http_client.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace boltauth::testing {
namespace {

const std::string kBinary = BOLTAUTH_BINARY;
const std::string kHaproxy = "/usr/sbin/haproxy";
const std::string kInteropCallback = "http://127.0.0.1/interop/callback";

/// A port that was free a moment ago (haproxy's frontend must be known before the nodes start: it is their issuer).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// `argv` run so that the kernel sends it SIGTERM should this test process die without its destructors (setpriv is
/// util-linux's; the signal survives the exec).
std::vector<std::string> dies_with_test(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/setpriv", "--pdeathsig", "TERM", "--"});
  return argv;
}

void must(const CommandResult& r, const std::string& what) {
  if (r.exit_code != 0)
    throw std::runtime_error(what + " exited " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" +
                             r.err);
}

/// Debian's haproxy in the foreground (-db), configured as docs/deployment.md shows it minus TLS: one frontend on
/// 127.0.0.1:`port`, roundrobin over `backends` with health checks on /health, X-Forwarded-For appended
/// (`option forwardfor`) and X-Forwarded-Proto set to https, replacing whatever the client sent.
class Haproxy {
 public:
  Haproxy(const std::filesystem::path& dir, std::uint16_t port, const std::vector<std::uint16_t>& backends)
      : port_(port) {
    const auto config = dir / "haproxy.cfg";
    {
      std::ofstream out(config);
      out << "global\n"
             "    maxconn 256\n"
             "defaults\n"
             "    mode http\n"
             "    timeout connect 2s\n"
             "    timeout client 30s\n"
             "    timeout server 30s\n"
             // A request whose connection to a node failed (the node is gone) is tried again on another node.
             "    retries 3\n"
             "    option redispatch 1\n"
             "frontend auth\n"
             "    bind 127.0.0.1:"
          << port
          << "\n"
             "    option forwardfor\n"
             "    http-request set-header X-Forwarded-Proto https\n"
             "    default_backend nodes\n"
             "backend nodes\n"
             "    balance roundrobin\n"
             "    option httpchk GET /health\n"
             // A node that stops is taken out after three failed checks (0.6 s; requests meanwhile are redispatched
             // above). One slow answer must not do it: with one failure enough and the check's timeout at `inter`,
             // a sanitizer build under load can have both nodes marked down at once, and a page load get a 503.
             "    timeout check 2s\n"
             "    default-server check inter 200ms fall 3 rise 1\n";
      for (std::size_t i = 0; i < backends.size(); ++i)
        out << "    server node" << i << " 127.0.0.1:" << backends[i] << "\n";
    }
    child_ = std::make_unique<ChildProcess>(dies_with_test({kHaproxy, "-db", "-f", config.string()}));
    // Ready once the frontend answers a request that went through to a node.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      try {
        HttpClient probe(port_);
        if (probe.get("/health").status == 200) return;
      } catch (const std::exception&) {
        // not listening yet
      }
      if (child_->wait_exit(0ms) || std::chrono::steady_clock::now() > deadline) {
        child_->kill_and_reap();
        child_->join_reader();
        throw std::runtime_error("haproxy did not come up; stderr:\n" + child_->stderr_text());
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  ~Haproxy() {
    // -db: SIGTERM stops at once; the ChildProcess kills whatever is left.
    child_->signal(SIGTERM);
    child_->wait_exit(5s);
  }

  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> child_;
};

/// One database (migrated, master key generated), a client made with the CLI, two sandbox nodes that trust
/// 127.0.0.1/32 as their proxy and name the balancer as issuer, each with its own data dir (its OTP outbox), and
/// haproxy in front of them.
class BehindHaproxy : public ::testing::Test {
 protected:
  BehindHaproxy() {
    url_ = PgCluster::shared().create_database();
    master_key_ = dir_.path() / "master.key";
    must(run_command({kBinary, "master-key", "generate", "--out", master_key_.string()}), "master-key generate");
    must(run_command({kBinary, "migrate", "--store-url", url_}), "migrate");
    const auto created = run_command({kBinary, "client", "create", "--store-url", url_, "--master-key-file",
                                      master_key_.string(), "--name", "Shop", "--redirect-uri", kInteropCallback,
                                      "--grant", "authorization_code,refresh_token", "--json"});
    must(created, "client create");
    const auto o = boost::json::parse(created.out).as_object();
    client_id_ = std::string(o.at("client_id").as_string());
    canonical_client_id_ = std::string(o.at("id").as_string());
    client_secret_ = std::string(o.at("client_secret").as_string());

    const std::uint16_t lb_port = free_port();
    base_ = "http://127.0.0.1:" + std::to_string(lb_port);
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < 2; ++i) {
      data_dirs_.push_back(dir_.path() / ("node" + std::to_string(i)));
      // Debug logging: each node logs every token request it refused, which shows who answered.
      nodes_.push_back(std::make_unique<ServerProcess>(
          kBinary, data_dirs_.back(),
          std::vector<std::string>{"--store-url", url_, "--master-key-file", master_key_.string(), "--mode", "sandbox",
                                   "--issuer", base_, "--trusted-proxy", "127.0.0.1/32", "--log-level", "debug"}));
      ports.push_back(nodes_.back()->port());
    }
    haproxy_ = std::make_unique<Haproxy>(dir_.path(), lb_port, ports);
  }

  std::uint16_t lb_port() const { return haproxy_->port(); }
  ServerProcess& node(std::size_t i) { return *nodes_.at(i); }

  std::string token_form(std::vector<std::pair<std::string, std::string>> pairs, const std::string& secret = {}) const {
    pairs.emplace_back("client_id", client_id_);
    pairs.emplace_back("client_secret", secret.empty() ? client_secret_ : secret);
    return form(pairs);
  }

  /// Token requests node `i` refused so far (its debug log has one line for each).
  std::size_t refusals(std::size_t i) {
    std::size_t n = 0;
    for (const auto& line : node(i).process().stdout_lines()) n += line.find("token endpoint: ") != std::string::npos;
    return n;
  }
  /// refusals(i) once it reached `n` (a log line may trail the answer by a moment), or what it is after 5 s.
  std::size_t refusals_when(std::size_t i, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (refusals(i) < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return refusals(i);
  }

  /// The newest one-time code mailed to `email` by either node (whichever answered the login-email post).
  std::string otp_for(const std::string& email) const {
    std::string code;
    for (const auto& dir : data_dirs_) {
      std::ifstream in(dir / "outbox" / "otp.jsonl");
      std::string line;
      while (std::getline(in, line)) {
        const auto v = boost::json::parse(line).as_object();
        if (v.at("to").as_string() == email) code = std::string(v.at("code").as_string());
      }
    }
    return code;
  }

  /// A sandbox shopper's code redeemed with the right secret, through `http`: 200 unless the client is held off.
  int redeem_sandbox_code(HttpClient& http) {
    auto shopper = http.request("POST", "/v1/testing/shopper/create",
                                {{"X-API-Key", client_secret_}, {"Content-Type", "application/json"}}, "{}");
    EXPECT_EQ(shopper.status, 200) << shopper.body;
    if (shopper.status != 200) return 0;
    const std::string code(shopper.json().as_object().at("oauth_code").as_string());
    return http
        .post_form("/v1/oauth/token",
                   token_form({{"grant_type", "authorization_code"}, {"code", code}, {"scope", "openid"}}))
        .status;
  }

  /// The authorization endpoint's login, over plain HTTP through the balancer: a code bound to `challenge`, `nonce`
  /// and the interop redirect URI, as a browser would get it.
  std::string log_in(const std::string& email, const std::string& scope, const std::string& challenge,
                     const std::string& nonce) {
    HttpClient lb(lb_port());
    const std::string target = "/v1/oauth/authorize?" + form({{"response_type", "code"},
                                                              {"client_id", client_id_},
                                                              {"redirect_uri", kInteropCallback},
                                                              {"scope", scope},
                                                              {"state", "interop"},
                                                              {"nonce", nonce},
                                                              {"code_challenge", challenge},
                                                              {"code_challenge_method", "S256"}});
    auto page = lb.get(target);
    EXPECT_EQ(page.status, 200) << page.body;
    std::string cookie;
    for (const auto& [k, v] : page.headers)
      if (k == "set-cookie") cookie += (cookie.empty() ? "" : "; ") + v.substr(0, v.find(';'));
    // A same-origin form post, as the login page's browser sends it.
    Headers jar{{"Sec-Fetch-Site", "same-origin"}};
    if (!cookie.empty()) jar.emplace_back("Cookie", cookie);
    std::smatch m;
    static const std::regex handle_re("name=\"login\" value=\"([^\"]+)\"");
    if (!std::regex_search(page.body, m, handle_re)) return {};
    const std::string handle = m[1].str();
    auto sent = lb.post_form("/v1/oauth/login-email", form({{"login", handle}, {"email", email}}), jar);
    // POST-redirect-GET: the form answers 303 to the code page.
    EXPECT_EQ(sent.status, 303) << sent.body;
    const auto otp = otp_for(email);
    EXPECT_EQ(otp.size(), 6U) << "no code mailed to " << email;
    auto done = lb.post_form("/v1/oauth/login-otp", form({{"login", handle}, {"otp", otp}}), jar);
    EXPECT_EQ(done.status, 303) << done.body;
    const auto location = done.header("location").value_or("");
    const auto q = location.find('?');
    if (q == std::string::npos) return {};
    auto params = protocol::parse_form(location.substr(q + 1), 16);
    if (!params.params) return {};
    EXPECT_EQ(params.params->get("iss").value_or(""), base_);
    return std::string(params.params->get("code").value_or(""));
  }

  /// The interop clients' configuration (interop_test.cpp's shape), with a code from a real login.
  std::string interop_config(const std::string& email) {
    base::SeededRandom random(0x1b0b);  // fixed: the same verifier and nonce on every run
    const std::string verifier = random.token(48);
    const std::string challenge = base::base64url_encode(crypto::sha256(verifier));
    const std::string nonce = "lb-" + random.token(12);
    const std::string scope = "bolt.account.manage bolt.account.view openid email";
    const std::string code = log_in(email, scope, challenge, nonce);
    EXPECT_FALSE(code.empty());
    boost::json::object cfg;
    cfg["issuer"] = base_;
    cfg["client_id"] = client_id_;
    cfg["canonical_client_id"] = canonical_client_id_;
    cfg["client_secret"] = client_secret_;
    cfg["redirect_uri"] = kInteropCallback;
    cfg["code"] = code;
    cfg["code_verifier"] = verifier;
    cfg["code_challenge"] = challenge;
    cfg["nonce"] = nonce;
    cfg["scope"] = scope;
    return boost::json::serialize(cfg);
  }

  /// tests/e2e/browser/e2e.mjs against the balancer instead of a server of its own.
  CommandResult run_browser_scenario(const std::string& scenario) {
    return run_command(
        dies_with_test({"/usr/bin/env", "BOLTAUTH_BINARY=" + kBinary, "ARTIFACT_DIR=" BOLTAUTH_LB_ARTIFACT_DIR,
                        "BOLTAUTH_E2E_BASE=" + base_,
                        "BOLTAUTH_E2E_OUTBOX_DIRS=" + data_dirs_[0].string() + ":" + data_dirs_[1].string(),
                        "BOLTAUTH_E2E_STORE_URL=" + url_, "BOLTAUTH_E2E_MASTER_KEY_FILE=" + master_key_.string(),
                        "node", BOLTAUTH_BROWSER_E2E, scenario}),
        150s);
  }

  static void expect_passed(const CommandResult& r, const std::string& marker) {
    EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    EXPECT_NE(r.out.find(marker), std::string::npos) << r.out;
  }

  TempDir dir_;
  std::string url_;
  std::filesystem::path master_key_;
  std::string client_id_, canonical_client_id_, client_secret_;
  std::string base_;
  std::vector<std::filesystem::path> data_dirs_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::unique_ptr<Haproxy> haproxy_;  // declared last: stopped before the nodes
};

TEST_F(BehindHaproxy, RequestsAlternateBetweenTheNodesAndOneNodeCarriesOnAlone) {
  HttpClient lb(lb_port());  // one keep-alive connection: haproxy balances each request, not each connection
  const auto unknown_refresh = token_form({{"grant_type", "refresh_token"}, {"refresh_token", "not-a-token"}});
  auto first = lb.post_form("/v1/oauth/token", unknown_refresh);
  ASSERT_TRUE(first.status >= 400 && first.status < 500) << first.status << " " << first.body;
  for (int i = 1; i < 10; ++i) {
    auto r = lb.post_form("/v1/oauth/token", unknown_refresh);
    ASSERT_EQ(r.status, first.status) << r.body;
  }
  EXPECT_EQ(refusals_when(0, 5), 5U);
  EXPECT_EQ(refusals_when(1, 5), 5U);

  // Node 1 goes away (SIGTERM drains it): haproxy sends everything to node 0, and no request fails.
  ASSERT_TRUE(node(1).process().signal(SIGTERM));
  ASSERT_TRUE(node(1).process().wait_exit(15s));
  for (int i = 0; i < 6; ++i) {
    auto r = lb.post_form("/v1/oauth/token", unknown_refresh);
    EXPECT_EQ(r.status, first.status) << "after the stop, request " << i << ": " << r.body;
  }
  EXPECT_EQ(refusals_when(0, 11), 11U);
  EXPECT_EQ(refusals(1), 5U);
}

// Each scenario's login mail is in one of our nodes' outboxes: the browser went through the balancer to them.
TEST_F(BehindHaproxy, browser_redirect_flow) {
  expect_passed(run_browser_scenario("redirect_flow"), "ok redirect_flow");
  EXPECT_EQ(otp_for("redirect@example.com").size(), 6U);
}

TEST_F(BehindHaproxy, browser_web_message_iframe) {
  expect_passed(run_browser_scenario("web_message_iframe"), "ok web_message_iframe");
  EXPECT_EQ(otp_for("embedded@example.com").size(), 6U);
}

// The second authorization finds the login session whichever node answers it.
TEST_F(BehindHaproxy, browser_prompt_none) {
  expect_passed(run_browser_scenario("prompt_none"), "ok prompt_none");
  EXPECT_EQ(otp_for("session@example.com").size(), 6U);
}

TEST_F(BehindHaproxy, authlib_code_flow_through_the_balancer) {
  const auto config = interop_config("authlib@example.com");
  expect_passed(run_command(dies_with_test({"/usr/bin/python3", BOLTAUTH_INTEROP_DIR "/authlib_flow.py", config}), 60s),
                "every check passed");
}

TEST_F(BehindHaproxy, openid_client_code_flow_through_the_balancer) {
  const auto config = interop_config("openid-client@example.com");
  expect_passed(
      run_command(dies_with_test({"/usr/bin/env", "node", BOLTAUTH_INTEROP_DIR "/openid_client_flow.js", config}), 60s),
      "every check passed");
}

TEST_F(BehindHaproxy, FailedClientAuthenticationIsThrottledPerShopperAddress) {
  // The default: 10 failures within 60 s hold a client off from one address, counted in the database, so the
  // failures may land on either node.
  const auto wrong = token_form({{"grant_type", "refresh_token"}, {"refresh_token", "x"}}, "wrong-secret");
  HttpClient shopper_a(lb_port()), shopper_b(lb_port());
  shopper_a.set_source_address("127.0.0.2");
  shopper_b.set_source_address("127.0.0.3");
  for (int i = 0; i < 10; ++i) {
    auto r = shopper_a.post_form("/v1/oauth/token", wrong);
    ASSERT_EQ(r.status, 401) << "attempt " << i << ": " << r.body;
  }
  auto held = shopper_a.post_form("/v1/oauth/token", wrong);
  EXPECT_EQ(held.status, 429) << held.body;
  EXPECT_TRUE(held.header("retry-after"));
  EXPECT_EQ(redeem_sandbox_code(shopper_a), 429);
  // The shopper next door (another address behind the same balancer) is not held off.
  EXPECT_EQ(redeem_sandbox_code(shopper_b), 200);

  // A trusted hop in front of haproxy (a CDN, here a client at 127.0.0.1) names the shoppers in X-Forwarded-For;
  // haproxy appends 127.0.0.1, which is trusted, so the rightmost untrusted address is the shopper's.
  HttpClient cdn(lb_port());
  for (int i = 0; i < 10; ++i) {
    auto r = cdn.post_form("/v1/oauth/token", wrong, {{"X-Forwarded-For", "203.0.113.1"}});
    ASSERT_EQ(r.status, 401) << "attempt " << i << ": " << r.body;
  }
  EXPECT_EQ(cdn.post_form("/v1/oauth/token", wrong, {{"X-Forwarded-For", "203.0.113.1"}}).status, 429);
  EXPECT_EQ(cdn.post_form("/v1/oauth/token", wrong, {{"X-Forwarded-For", "203.0.113.2"}}).status, 401);
}

TEST_F(BehindHaproxy, AForgedXForwardedForDoesNotEscapeTheThrottle) {
  const auto wrong = token_form({{"grant_type", "refresh_token"}, {"refresh_token", "x"}}, "wrong-secret");
  const Headers forged{{"X-Forwarded-For", "198.51.100.7"}};
  HttpClient shopper(lb_port());
  shopper.set_source_address("127.0.0.2");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(shopper.post_form("/v1/oauth/token", wrong).status, 401) << i;
  ASSERT_EQ(shopper.post_form("/v1/oauth/token", wrong).status, 429);

  // Through haproxy: it appends the real peer (127.0.0.2) to the forged list, and that is the rightmost untrusted.
  EXPECT_EQ(shopper.post_form("/v1/oauth/token", wrong, forged).status, 429);
  // Straight to either node: the peer 127.0.0.2 is no trusted proxy, so the node drops the header.
  for (std::size_t i = 0; i < 2; ++i) {
    HttpClient direct(node(i).port());
    direct.set_source_address("127.0.0.2");
    auto r = direct.post_form("/v1/oauth/token", wrong, forged);
    EXPECT_EQ(r.status, 429) << "node " << i << ": " << r.body;
    EXPECT_EQ(direct.post_form("/v1/oauth/token", wrong, {{"X-Forwarded-For", "127.0.0.3"}}).status, 429);
  }
  // The forged address itself is not held off: coming from a trusted hop, its first failure is a plain 401. So the
  // 429s above were the forger's own address, not the one it named.
  HttpClient trusted_hop(lb_port());
  EXPECT_EQ(trusted_hop.post_form("/v1/oauth/token", wrong, forged).status, 401);
}

// X-Forwarded-Proto: nothing in boltauth's answers depends on it today (the issuer is configured, and cookies are
// Secure when it is https), so what a handler receives is observed directly: the real HttpServer with the same
// trusted_proxies as the nodes, a handler that echoes the forwarding headers and the client address it was given,
// and the same haproxy in front.
TEST(ForwardingHeaders, BelievedFromHaproxyAndDroppedFromAnUntrustedPeer) {
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.io_threads = 1;
  options.worker_threads = 2;
  options.trusted_proxies = {"127.0.0.1/32"};
  http::HttpServer probe(
      options,
      [](const core::Request& r) {
        boost::json::object o;
        const auto joined = [&r](std::string_view name) -> boost::json::value {
          std::string all;
          for (const auto& [k, v] : r.headers)
            if (k == name) all += (all.empty() ? "" : ", ") + v;
          if (r.header_count(name) == 0) return nullptr;
          return boost::json::string(all);
        };
        o["proto"] = joined("x-forwarded-proto");
        o["for"] = joined("x-forwarded-for");
        o["client"] = r.remote_address;
        core::Response res;
        res.body = boost::json::serialize(o);
        return res;
      },
      [](std::string_view) {});
  const auto probe_port = probe.start();
  TempDir dir;
  Haproxy lb(dir.path(), free_port(), {probe_port});

  // What the handler was given: field -> value, "(absent)" for a header it did not get.
  const auto seen = [](HttpClient& http, const Headers& headers) {
    auto r = http.get("/echo", headers);
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, std::string> out;
    const auto body = r.json();  // kept: the loop below walks into it
    for (const auto& [k, v] : body.as_object())
      out[std::string(k)] = v.is_string() ? std::string(v.as_string()) : "(absent)";
    return out;
  };

  // Through haproxy from an untrusted shopper address: haproxy's https replaces the client's own claim, and the
  // client address is the shopper's.
  HttpClient via_lb(lb.port());
  via_lb.set_source_address("127.0.0.2");
  auto v = seen(via_lb, {{"X-Forwarded-Proto", "http"}});
  EXPECT_EQ(v["proto"], "https");
  EXPECT_EQ(v["for"], "127.0.0.2");
  EXPECT_EQ(v["client"], "127.0.0.2");
  v = seen(via_lb, {{"X-Forwarded-For", "198.51.100.7"}});
  EXPECT_EQ(v["for"], "198.51.100.7, 127.0.0.2");
  EXPECT_EQ(v["client"], "127.0.0.2");  // haproxy appended the real peer: the rightmost untrusted

  // The same headers sent straight from 127.0.0.2 (no trusted proxy): dropped before the handler.
  HttpClient direct(probe_port);
  direct.set_source_address("127.0.0.2");
  v = seen(direct, {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-For", "198.51.100.7"}});
  EXPECT_EQ(v["proto"], "(absent)");
  EXPECT_EQ(v["for"], "(absent)");
  EXPECT_EQ(v["client"], "127.0.0.2");

  // And straight from 127.0.0.1, the trusted address: believed. Trust, not the path, decides.
  HttpClient trusted(probe_port);
  v = seen(trusted, {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-For", "198.51.100.7"}});
  EXPECT_EQ(v["proto"], "https");
  EXPECT_EQ(v["client"], "198.51.100.7");
  probe.stop(1);
}

}  // namespace
}  // namespace boltauth::testing
