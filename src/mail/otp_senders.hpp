#pragma once
#include <filesystem>
#include <mutex>
#include <string>

#include "core/ports/otp_sender.hpp"

namespace boltauth::mail {

/// The subject and plain-text body of a one-time code message (shared by both senders).
std::string otp_subject(const core::ports::OtpMessage& message);
std::string otp_body(const core::ports::OtpMessage& message);

/// The default sender: appends one JSON object per line to `<data_dir>/outbox/otp.jsonl`
/// ({"to","subject","code","body"}). What the sandbox, the tests and a developer without SMTP read.
class FileOutbox final : public core::ports::OtpSender {
 public:
  explicit FileOutbox(const std::filesystem::path& data_dir);
  bool send(const core::ports::OtpMessage& message, std::string& error) override;
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::mutex mutex_;
};

struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string from;
  std::string username;  // empty: no AUTH
  std::string password;
  bool starttls = false;  // require STARTTLS on smtp://
  long timeout_seconds = 10;
};

/// SMTP through libcurl. One connection per message: codes are rare and latency is dominated by the shopper.
class SmtpSender final : public core::ports::OtpSender {
 public:
  explicit SmtpSender(SmtpOptions options);
  bool send(const core::ports::OtpMessage& message, std::string& error) override;

 private:
  SmtpOptions options_;
};

}  // namespace boltauth::mail
