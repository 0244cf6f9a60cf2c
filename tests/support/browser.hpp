#pragma once
// A cookie-keeping client for the login modal over real HTTP, and helpers for the authorization endpoint tests.
#include <boost/json/parse.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "base/base64url.hpp"
#include "crypto/digest.hpp"
#include "protocol/form.hpp"
#include "support/test_server.hpp"

namespace boltauth::testing {

using Params = std::vector<std::pair<std::string, std::string>>;

/// Cookies by name; Set-Cookie with Max-Age=0 removes one. Path and domain are ignored (one server).
class Browser {
 public:
  explicit Browser(TestServer& server) : server_(server) {}

  HttpResponse get(const std::string& target, Headers headers = {}) {
    return send("GET", target, "", std::move(headers));
  }
  /// A form post from one of the server's own pages: like every current browser it says `Sec-Fetch-Site:
  /// same-origin`, unless the caller sets `Origin` or `Sec-Fetch-Site` itself.
  HttpResponse post(const std::string& target, const std::string& body, Headers headers = {}) {
    bool fetch_metadata = false;
    for (const auto& [k, v] : headers) fetch_metadata = fetch_metadata || k == "Origin" || k == "Sec-Fetch-Site";
    if (!fetch_metadata) headers.emplace_back("Sec-Fetch-Site", "same-origin");
    return post_bare(target, body, std::move(headers));
  }
  /// A form post with only the given headers (no fetch metadata): what a non-browser client sends.
  /// Like a browser, follows the login forms' POST-redirect-GET to the page of the next step (`login?...`, relative
  /// to the form's path); redirects anywhere else (the client's redirect URI) are returned as they are.
  HttpResponse post_bare(const std::string& target, const std::string& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    auto res = send("POST", target, body, std::move(headers));
    const auto location = res.header("location");
    if (res.status == 303 && location && location->rfind("login?", 0) == 0) {
      last_post_status_ = res.status;
      const auto slash = target.rfind('/');
      return send("GET", target.substr(0, slash + 1) + *location, "", {});
    }
    last_post_status_ = res.status;
    return res;
  }
  /// The status the last post itself answered (303 when it was followed to the next step's page).
  int last_post_status() const { return last_post_status_; }
  std::map<std::string, std::string>& cookies() { return cookies_; }
  /// The raw Set-Cookie lines of the last response.
  const std::vector<std::string>& last_set_cookies() const { return set_cookies_; }

 private:
  HttpResponse send(const std::string& method, const std::string& target, const std::string& body, Headers headers) {
    std::string jar;
    for (const auto& [k, v] : cookies_) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
    if (!jar.empty()) headers.emplace_back("Cookie", jar);
    auto res = server_.http().request(method, target, headers, body);
    set_cookies_.clear();
    for (const auto& [k, v] : res.headers) {
      if (k != "set-cookie") continue;
      set_cookies_.push_back(v);
      const auto eq = v.find('=');
      const auto semi = v.find(';');
      const std::string name = v.substr(0, eq);
      const std::string value = v.substr(eq + 1, semi == std::string::npos ? std::string::npos : semi - eq - 1);
      if (v.find("Max-Age=0") != std::string::npos)
        cookies_.erase(name);
      else
        cookies_[name] = value;
    }
    return res;
  }

  TestServer& server_;
  std::map<std::string, std::string> cookies_;
  std::vector<std::string> set_cookies_;
  int last_post_status_ = 0;
};

inline std::string query_string(const Params& params) {
  std::string q;
  for (const auto& [k, v] : params)
    q += (q.empty() ? "" : "&") + protocol::form_encode(k) + "=" + protocol::form_encode(v);
  return q;
}

inline std::string authorize_target(const Params& params) { return "/v1/oauth/authorize?" + query_string(params); }

/// The hidden `login` handle of a login page; empty when there is none.
inline std::string login_handle(const HttpResponse& page) {
  std::smatch m;
  static const std::regex re("name=\"login\" value=\"([^\"]+)\"");
  return std::regex_search(page.body, m, re) ? m[1].str() : std::string();
}

/// The code of the last message in the file outbox to `email`; empty when none.
inline std::string last_otp(TestServer& server, const std::string& email) {
  std::ifstream in(server.data_dir() / "outbox" / "otp.jsonl");
  std::string line, code;
  while (std::getline(in, line)) {
    const auto v = boost::json::parse(line).as_object();
    if (v.at("to").as_string() == email) code = std::string(v.at("code").as_string());
  }
  return code;
}

inline std::size_t outbox_count(TestServer& server) {
  std::ifstream in(server.data_dir() / "outbox" / "otp.jsonl");
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

/// Query parameters of a URL, decoded, in order (repeats kept).
inline Params query_params(const std::string& url) {
  Params out;
  const auto q = url.find('?');
  if (q == std::string::npos) return out;
  std::string rest = url.substr(q + 1);
  const auto hash = rest.find('#');
  if (hash != std::string::npos) rest = rest.substr(0, hash);
  std::size_t start = 0;
  while (start <= rest.size()) {
    auto amp = rest.find('&', start);
    if (amp == std::string::npos) amp = rest.size();
    const std::string pair = rest.substr(start, amp - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out.emplace_back(*protocol::form_decode(pair.substr(0, eq)),
                       eq == std::string::npos ? std::string() : *protocol::form_decode(pair.substr(eq + 1)));
    }
    start = amp + 1;
  }
  return out;
}

inline std::string param(const Params& params, const std::string& name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

inline std::size_t param_count(const Params& params, const std::string& name) {
  std::size_t n = 0;
  for (const auto& [k, v] : params) n += k == name;
  return n;
}

struct Pkce {
  std::string verifier;
  std::string challenge;
};

inline Pkce make_pkce(const std::string& seed = "a") {
  Pkce p;
  p.verifier = std::string(43, seed[0]) + "-verifier-" + seed;
  p.challenge = base::base64url_encode(crypto::sha256(p.verifier));
  return p;
}

/// Walks the login modal: submits `email`, then the code from the outbox. Returns the final response.
inline HttpResponse log_in(TestServer& server, Browser& browser, const HttpResponse& email_page,
                           const std::string& email) {
  const std::string handle = login_handle(email_page);
  auto otp_page = browser.post("/v1/oauth/login-email", form({{"login", handle}, {"email", email}}));
  if (otp_page.status != 200) return otp_page;
  return browser.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", last_otp(server, email)}}));
}

}  // namespace boltauth::testing
