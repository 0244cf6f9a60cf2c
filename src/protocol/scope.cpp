#include "protocol/scope.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace boltauth::protocol {
namespace {

struct Known {
  std::string_view name;
  ScopeToken token;
};
constexpr std::array<Known, 4> kKnown{{{"bolt.account.manage", ScopeToken::bolt_account_manage},
                                       {"bolt.account.view", ScopeToken::bolt_account_view},
                                       {"openid", ScopeToken::openid},
                                       {"email", ScopeToken::email}}};

bool add_token(ScopeSet& set, std::string_view name) {
  for (const auto& k : kKnown) {
    if (k.name == name) {
      set.add(k.token);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string ScopeSet::to_string() const {
  std::string out;
  for (const auto& k : kKnown) {
    if (!has(k.token)) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(k.name);
  }
  return out;
}

ScopeParseResult parse_scope(std::string_view value) {
  ScopeParseResult result;
  ScopeSet set;
  if (!value.empty() && value.front() == '[') {
    // Bolt's v3 TypeScript SDK writes the array as raw JSON: scope=["bolt.account.manage","openid"].
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(value, ec);
    if (ec || !parsed.is_array() || parsed.as_array().empty()) return result;
    for (const auto& item : parsed.as_array())
      if (!item.is_string()) return result;  // shape first: a non-string anywhere is malformed, not unknown
    for (const auto& item : parsed.as_array()) {
      if (!add_token(set, std::string_view(item.as_string()))) {
        result.error = ScopeError::unknown;
        return result;
      }
    }
    result.scope = set;
    return result;
  }
  // RFC 6749 section 3.3 separates with spaces; Bolt's guide shows a literal '+' (scope=a%2Bb). No known scope
  // contains either, so both separate.
  std::size_t pos = 0;
  bool any = false;
  while (pos < value.size()) {
    const std::size_t end = value.find_first_of(" +", pos);
    const std::string_view tok = value.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (!tok.empty()) {
      for (char c : tok) {
        // scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 appendix A.4)
        if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') return result;
      }
      if (!add_token(set, tok)) {
        result.error = ScopeError::unknown;
        return result;
      }
      any = true;
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (!any) return result;
  result.scope = set;
  return result;
}

}  // namespace boltauth::protocol
