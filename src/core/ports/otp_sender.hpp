#pragma once
#include <string>

namespace boltauth::core::ports {

/// One one-time login code on its way to a shopper.
struct OtpMessage {
  std::string to;           // normalized email
  std::string code;         // 6 digits
  std::string client_name;  // the merchant the shopper is logging in to
  int valid_minutes = 10;
};

/// Delivery of one-time codes (file outbox, SMTP). Implementations are thread-safe.
class OtpSender {
 public:
  virtual ~OtpSender() = default;
  /// False when the message could not be handed over; `error` then says why (for the log only).
  virtual bool send(const OtpMessage& message, std::string& error) = 0;
};

}  // namespace boltauth::core::ports
