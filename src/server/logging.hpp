#pragma once
#include <spdlog/common.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace boltauth::server {

/// How log lines are written: `text` ("[time] [level] message key=value ...") or `json` (one object per line, for
/// log collectors).
enum class LogFormat { text, json };

/// "text" or "json"; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view name);

/// Installs `format` and `level` ("error", "warn", "info" or "debug") on spdlog's default logger. Throws
/// std::invalid_argument for another level name.
void configure_logging(LogFormat format, std::string_view level);

/// A named value of a log line: ` key=value` in text, a member of the line's object in JSON. `raw` values are
/// numbers, written without quotes in JSON.
struct LogField {
  std::string_view key;
  std::string_view value;
  bool raw = false;
};

/// Writes `message` at `level` with `fields`, in the configured format. Cheap when `level` is disabled.
void log_with_fields(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields);

/// While one lives, every line this thread logs carries `request_id` (the request being handled). Scopes nest;
/// the inner one wins.
class RequestLogScope {
 public:
  explicit RequestLogScope(std::string_view request_id);
  ~RequestLogScope();
  RequestLogScope(const RequestLogScope&) = delete;
  RequestLogScope& operator=(const RequestLogScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace boltauth::server
