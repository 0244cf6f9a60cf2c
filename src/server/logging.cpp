#include "server/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace boltauth::server {
namespace {

// The request being handled on this thread, and the fields of the line being written. The default logger is
// synchronous, so its formatter runs on the thread that logs and sees both.
thread_local std::string current_request_id;
thread_local const std::initializer_list<LogField>* current_fields = nullptr;

void append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

void append_hex(spdlog::memory_buf_t& dest, const char* prefix, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  append(dest, prefix);
  const char digits[2] = {kHex[c >> 4], kHex[c & 15]};
  dest.append(digits, digits + 2);
}

// A JSON string. Bytes outside printable ASCII are escaped as \u00XX: every line stays valid JSON (and UTF-8)
// whatever a client sent.
void append_json_string(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      dest.push_back('\\');
      dest.push_back(ch);
    } else if (c < 0x20 || c >= 0x7f) {
      append_hex(dest, "\\u00", c);
    } else {
      dest.push_back(ch);
    }
  }
  dest.push_back('"');
}

// Text lines: control and non-ASCII bytes become \xNN, so a value can never start a forged line.
void append_text(spdlog::memory_buf_t& dest, std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f)
      append_hex(dest, "\\x", c);
    else
      dest.push_back(ch);
  }
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

void append_text_value(spdlog::memory_buf_t& dest, std::string_view s) {
  if (!needs_quotes(s)) return append_text(dest, s);
  dest.push_back('"');
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') dest.push_back('\\');
    append_text(dest, std::string_view(&ch, 1));
  }
  dest.push_back('"');
}

bool has_field(std::string_view key) {
  if (!current_fields) return false;
  for (const auto& f : *current_fields)
    if (f.key == key) return true;
  return false;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    // RFC 3339 time in UTC, to the microsecond.
    const auto since_epoch = msg.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds).count();
    const std::time_t t = seconds.count();
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char time[96];
    std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(micros));
    append(dest, R"({"time":")");
    append(dest, time);
    append(dest, R"(","level":)");
    const auto level = spdlog::level::to_string_view(msg.level);
    append_json_string(dest, std::string_view(level.data(), level.size()));
    append(dest, R"(,"msg":)");
    append_json_string(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    if (current_fields) {
      for (const auto& f : *current_fields) {
        dest.push_back(',');
        append_json_string(dest, f.key);
        dest.push_back(':');
        if (f.raw)
          append(dest, f.value);
        else
          append_json_string(dest, f.value);
      }
    }
    if (!current_request_id.empty() && !has_field("request_id")) {
      append(dest, R"(,"request_id":)");
      append_json_string(dest, current_request_id);
    }
    append(dest, "}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

class TextFormatter final : public spdlog::formatter {
 public:
  // The same prefix as spdlog's default pattern; the message and fields are escaped here.
  TextFormatter() : prefix_("[%Y-%m-%d %H:%M:%S.%e] [%l] ", spdlog::pattern_time_type::local, "") {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    prefix_.format(msg, dest);
    append_text(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    if (current_fields) {
      for (const auto& f : *current_fields) {
        dest.push_back(' ');
        append_text(dest, f.key);
        dest.push_back('=');
        append_text_value(dest, f.value);
      }
    }
    if (!current_request_id.empty() && !has_field("request_id")) {
      append(dest, " request_id=");
      append_text_value(dest, current_request_id);
    }
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }

 private:
  spdlog::pattern_formatter prefix_;
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return std::nullopt;
}

void configure_logging(LogFormat format, std::string_view level) {
  spdlog::level::level_enum l;
  if (level == "error")
    l = spdlog::level::err;
  else if (level == "warn")
    l = spdlog::level::warn;
  else if (level == "info")
    l = spdlog::level::info;
  else if (level == "debug")
    l = spdlog::level::debug;
  else
    throw std::invalid_argument("log level must be error, warn, info or debug, got " + std::string(level));
  if (format == LogFormat::json)
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  else
    spdlog::set_formatter(std::make_unique<TextFormatter>());
  spdlog::set_level(l);
}

void log_with_fields(spdlog::level::level_enum level, std::string_view message,
                     std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  const auto* previous = current_fields;
  current_fields = &fields;
  try {
    spdlog::log(level, "{}", message);
  } catch (...) {
    // spdlog reports its own errors; a log line must never fail a request.
  }
  current_fields = previous;
}

RequestLogScope::RequestLogScope(std::string_view request_id) : previous_(std::move(current_request_id)) {
  current_request_id.assign(request_id);
}

RequestLogScope::~RequestLogScope() { current_request_id = std::move(previous_); }

}  // namespace boltauth::server
