#pragma once
// Helpers the SDK's calls share (not installed).
#include <string>

#include "boltauth/http.hpp"

namespace boltauth::detail {

/// "application/json", optionally with parameters ("; charset=utf-8"); media types are case-insensitive.
bool is_json(const HttpResponse& r);
/// The User-Agent every call sends.
std::string sdk_user_agent();

}  // namespace boltauth::detail
