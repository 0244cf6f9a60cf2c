#include "workload.hpp"

#include <stdexcept>

namespace boltauth::bench {

std::optional<WorkloadKind> parse_workload(std::string_view name) {
  if (name == "refresh") return WorkloadKind::refresh;
  if (name == "code_exchange_openid") return WorkloadKind::code_exchange_openid;
  if (name == "introspect") return WorkloadKind::introspect;
  if (name == "client_credentials") return WorkloadKind::client_credentials;
  if (name == "floor") return WorkloadKind::floor;
  return std::nullopt;
}

std::string_view workload_name(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::refresh:
      return "refresh";
    case WorkloadKind::code_exchange_openid:
      return "code_exchange_openid";
    case WorkloadKind::introspect:
      return "introspect";
    case WorkloadKind::client_credentials:
      return "client_credentials";
    case WorkloadKind::floor:
      return "floor";
  }
  return "?";
}

Seed parse_seed(std::string_view text) {
  Seed seed;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.find(' ');
    if (space == std::string_view::npos || space + 1 >= line.size())
      throw std::runtime_error("seed line " + std::to_string(line_no) + " has no value");
    const auto key = line.substr(0, space);
    std::string value(line.substr(space + 1));
    if (key == "client_id")
      seed.client_id = std::move(value);
    else if (key == "client_secret")
      seed.client_secret = std::move(value);
    else if (key == "refresh_token")
      seed.refresh_tokens.push_back(std::move(value));
    else if (key == "code")
      seed.codes.push_back(std::move(value));
    else if (key == "access_token")
      seed.access_tokens.push_back(std::move(value));
  }
  return seed;
}

std::string form_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> json_string_field(std::string_view json, std::string_view name) {
  std::string key = "\"";
  key += name;
  key += '"';
  std::size_t at = 0;
  while ((at = json.find(key, at)) != std::string_view::npos) {
    std::size_t i = at + key.size();
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) ++i;
    if (i < json.size() && json[i] == ':') {
      ++i;
      while (i < json.size() && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) ++i;
      if (i >= json.size() || json[i] != '"') return std::nullopt;
      const auto close = json.find('"', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      return std::string(json.substr(i + 1, close - i - 1));
    }
    at = i;  // the name appeared as a value: keep looking
  }
  return std::nullopt;
}

std::optional<std::string> TokenPool::take() {
  const auto i = next_.fetch_add(1, std::memory_order_relaxed);
  if (i >= tokens_.size()) return std::nullopt;
  return tokens_[i];
}

const std::string* TokenPool::cycle() {
  if (tokens_.empty()) return nullptr;
  return &tokens_[next_.fetch_add(1, std::memory_order_relaxed) % tokens_.size()];
}

std::string ConnectionState::client_auth() const {
  return "&client_id=" + form_encode(seed_.client_id) + "&client_secret=" + form_encode(seed_.client_secret);
}

std::optional<HttpCall> ConnectionState::next() {
  switch (kind_) {
    case WorkloadKind::refresh: {
      if (refresh_.empty()) {
        auto fresh = spare_.take();
        if (!fresh) return std::nullopt;
        refresh_ = std::move(*fresh);
        chain_ = 0;
      }
      std::string body = "grant_type=refresh_token&refresh_token=" + form_encode(refresh_) + client_auth();
      if (!target_.refresh_scope.empty()) body += "&scope=" + form_encode(target_.refresh_scope);
      return HttpCall{"POST", target_.token_path, std::move(body)};
    }
    case WorkloadKind::code_exchange_openid: {
      auto code = codes_.take();
      if (!code) return std::nullopt;
      std::string body = "grant_type=authorization_code&code=" + form_encode(*code) + client_auth();
      if (!target_.code_scope.empty()) body += "&scope=" + form_encode(target_.code_scope);
      if (!target_.redirect_uri.empty()) body += "&redirect_uri=" + form_encode(target_.redirect_uri);
      return HttpCall{"POST", target_.token_path, std::move(body)};
    }
    case WorkloadKind::introspect: {
      const std::string* token = access_.cycle();
      if (token == nullptr) return std::nullopt;
      // RFC 7662 section 2.1, the client authenticating with client_secret_post.
      return HttpCall{"POST", target_.introspect_path,
                      "token=" + form_encode(*token) + "&token_type_hint=access_token" + client_auth()};
    }
    case WorkloadKind::client_credentials:
      // RFC 6749 section 4.4.2.
      return HttpCall{"POST", target_.token_path, "grant_type=client_credentials" + client_auth()};
    case WorkloadKind::floor:
      return HttpCall{"GET", target_.floor_path, {}};
  }
  return std::nullopt;
}

void ConnectionState::on_response(int status, std::string_view body) {
  if (kind_ != WorkloadKind::refresh) return;
  std::optional<std::string> next;
  if (status == 200) next = json_string_field(body, "refresh_token");
  if (next && !next->empty()) {
    refresh_ = std::move(*next);
    ++chain_;
    return;
  }
  // The chain broke (an error, or no rotated token): the old token is spent or its family revoked.
  refresh_.clear();
  ++restarts_;
}

}  // namespace boltauth::bench
