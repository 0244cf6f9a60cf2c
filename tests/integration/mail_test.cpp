// One-time code delivery: the file outbox and SMTP through libcurl against a local SMTP sink started here.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "mail/otp_senders.hpp"
#include "support/browser.hpp"

namespace boltauth::testing {
namespace {

/// A minimal SMTP server (RFC 5321 happy path): records envelope and data of every message.
class SmtpSink {
 public:
  struct Message {
    std::string from, to, data;
  };

  SmtpSink() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~SmtpSink() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::vector<Message> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) serve(c);
    }
  }
  static void say(int c, const std::string& line) { (void)!::write(c, line.data(), line.size()); }
  void serve(int c) {
    say(c, "220 sink ESMTP\r\n");
    std::string buffer, line;
    Message m;
    bool in_data = false;
    char chunk[4096];
    for (;;) {
      const auto n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t eol;
      while ((eol = buffer.find("\r\n")) != std::string::npos) {
        line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            {
              std::lock_guard lock(mutex_);
              messages_.push_back(m);
            }
            m = Message{};
            say(c, "250 queued\r\n");
          } else {
            m.data += (line.rfind("..", 0) == 0 ? line.substr(1) : line) + "\n";
          }
          continue;
        }
        const std::string verb = line.substr(0, 4);
        if (verb == "EHLO" || verb == "HELO")
          say(c, "250 sink\r\n");
        else if (verb == "MAIL")
          m.from = line, say(c, "250 ok\r\n");
        else if (verb == "RCPT")
          m.to = line, say(c, "250 ok\r\n");
        else if (verb == "DATA")
          in_data = true, say(c, "354 go\r\n");
        else if (verb == "QUIT") {
          say(c, "221 bye\r\n");
          ::close(c);
          return;
        } else
          say(c, "250 ok\r\n");
      }
    }
    ::close(c);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Message> messages_;
};

TEST(MailTest, SmtpSenderDeliversTheCodeToTheSink) {
  SmtpSink sink;
  mail::SmtpSender sender({"smtp://127.0.0.1:" + std::to_string(sink.port()), "login@boltauth.test", "", "", false, 5});
  std::string error;
  ASSERT_TRUE(sender.send({"shopper@example.com", "123456", "Shop", 10}, error)) << error;
  const auto messages = sink.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].from, "MAIL FROM:<login@boltauth.test>");
  EXPECT_EQ(messages[0].to, "RCPT TO:<shopper@example.com>");
  EXPECT_NE(messages[0].data.find("Subject: Your login code: 123456"), std::string::npos);
  EXPECT_NE(messages[0].data.find("    123456"), std::string::npos);
}

TEST(MailTest, SmtpFailureIsReportedNotThrown) {
  // A port that was just free: nothing listens there.
  int port;
  {
    SmtpSink closed;
    port = closed.port();
  }
  mail::SmtpSender sender({"smtp://127.0.0.1:" + std::to_string(port), "login@boltauth.test", "", "", false, 2});
  std::string error;
  EXPECT_FALSE(sender.send({"shopper@example.com", "123456", "Shop", 10}, error));
  EXPECT_FALSE(error.empty());
}

TEST(MailTest, TheLoginModalSendsItsCodeOverSmtpWhenConfigured) {
  SmtpSink sink;
  TestServer server([&](server::AppOptions& o) {
    o.otp_delivery = "smtp";
    o.smtp = {"smtp://127.0.0.1:" + std::to_string(sink.port()), "login@boltauth.test", "", "", false, 5};
  });
  auto client = server.create_client({"https://shop.example/cb"});
  const auto pkce = make_pkce();
  Browser b(server);
  auto page = b.get(authorize_target({{"response_type", "code"},
                                      {"client_id", client.client.publishable_key},
                                      {"redirect_uri", "https://shop.example/cb"},
                                      {"scope", "openid"},
                                      {"code_challenge", pkce.challenge},
                                      {"code_challenge_method", "S256"}}));
  const auto handle = login_handle(page);
  ASSERT_EQ(b.post("/v1/oauth/login-email", form({{"login", handle}, {"email", "smtp@example.com"}})).status, 200);
  const auto messages = sink.messages();
  ASSERT_EQ(messages.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(messages[0].data, m, std::regex("Your login code: ([0-9]{6})")));
  EXPECT_EQ(b.post("/v1/oauth/login-otp", form({{"login", handle}, {"otp", m[1].str()}})).status, 303);
  EXPECT_FALSE(std::filesystem::exists(server.data_dir() / "outbox" / "otp.jsonl"));
}

TEST(MailTest, AnUnreachableSmtpServerGivesA503PageAndNoCode) {
  int port;
  {
    SmtpSink closed;
    port = closed.port();
  }
  TestServer server([&](server::AppOptions& o) {
    o.otp_delivery = "smtp";
    o.smtp = {"smtp://127.0.0.1:" + std::to_string(port), "login@boltauth.test", "", "", false, 2};
  });
  auto client = server.create_client({"https://shop.example/cb"});
  const auto pkce = make_pkce();
  Browser b(server);
  auto page = b.get(authorize_target({{"response_type", "code"},
                                      {"client_id", client.client.publishable_key},
                                      {"scope", "bolt.account.view"},
                                      {"code_challenge", pkce.challenge},
                                      {"code_challenge_method", "S256"}}));
  auto r = b.post("/v1/oauth/login-email", form({{"login", login_handle(page)}, {"email", "x@example.com"}}));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("could not send"), std::string::npos);
}

}  // namespace
}  // namespace boltauth::testing
