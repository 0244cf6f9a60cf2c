#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boltauth::core {

/// An HTTP request as core sees it: no Beast types, so core stays free of I/O (architecture.md).
struct Request {
  std::string method;  // upper case
  std::string path;    // without the query
  std::string query;   // raw, without '?'; never read by the token endpoint (contract section 3)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;
  std::string remote_address;

  std::optional<std::string_view> header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return std::string_view(v);
    return std::nullopt;
  }
  std::size_t header_count(std::string_view lower_name) const {
    std::size_t n = 0;
    for (const auto& [k, v] : headers) n += (k == lower_name);
    return n;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

}  // namespace boltauth::core
