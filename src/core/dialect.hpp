#pragma once

namespace boltauth::core {

/// How a route speaks when it refuses: which status table its OAuth errors use, which error body it writes, or
/// that it serves pages.
enum class Dialect {
  v1,    // Bolt's /v1 API: Bolt's OAuth statuses (400/401/403/422), Bolt's `{"errors":[...]}` elsewhere
  v3,    // Bolt's /v3 API: Bolt's statuses, and `{".tag","message"}` (ErrorT) or FieldError bodies on every 4xx
  rfc,   // the standard endpoints discovery advertises: RFC 6749 section 5.2 statuses (400, 401 invalid_client)
  html,  // pages for a browser
};

}  // namespace boltauth::core
