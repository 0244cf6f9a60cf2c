#include "server/config_loader.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace boltauth::server {
namespace {

class ConfigLoaderTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::filesystem::path write(const std::string& text) {
    const auto path = dir.path() / "boltauth.toml";
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(ConfigLoaderTest, ReadsEveryKey) {
  AppOptions o;
  load_config_file(write(R"(
listen = "0.0.0.0:9000"
data_dir = "/var/lib/boltauth"
issuer = "https://auth.shop.example"
mode = "production"
threads = 3
workers = 16
error_style = "rfc6749"
code_ttl = 120
access_token_ttl = 900
refresh_token_ttl = 86400
id_token_ttl = 600
refresh_grace_seconds = 5
token_scope_required = false
token_rate_limit_per_client = 50
rsa_key_bits = 3072
busy_timeout_ms = 250
[limits]
body_bytes = 1000
header_bytes = 2000
request_timeout_seconds = 3
idle_timeout_seconds = 4
max_connections = 5
max_form_params = 20
)"),
                   o);
  EXPECT_EQ(o.server.host, "0.0.0.0");
  EXPECT_EQ(o.server.port, 9000);
  EXPECT_EQ(o.data_dir, "/var/lib/boltauth");
  EXPECT_EQ(o.config.issuer, "https://auth.shop.example");
  EXPECT_FALSE(o.issuer_from_listen);
  EXPECT_EQ(o.config.mode, core::Mode::production);
  EXPECT_EQ(o.server.io_threads, 3);
  EXPECT_EQ(o.server.worker_threads, 16);
  EXPECT_EQ(o.config.error_style, protocol::ErrorStyle::rfc6749);
  EXPECT_EQ(o.config.code_ttl, 120);
  EXPECT_EQ(o.config.access_token_ttl, 900);
  EXPECT_EQ(o.config.refresh_token_ttl, 86400);
  EXPECT_EQ(o.config.id_token_ttl, 600);
  EXPECT_EQ(o.config.refresh_grace_seconds, 5);
  EXPECT_FALSE(o.config.token_scope_required);
  EXPECT_EQ(o.config.token_rate_limit_per_client, 50u);
  EXPECT_EQ(o.rsa_key_bits, 3072);
  EXPECT_EQ(o.busy_timeout_ms, 250);
  EXPECT_EQ(o.server.limits.body_limit, 1000u);
  EXPECT_EQ(o.server.limits.header_limit, 2000u);
  EXPECT_EQ(o.server.limits.request_timeout_seconds, 3);
  EXPECT_EQ(o.server.limits.idle_timeout_seconds, 4);
  EXPECT_EQ(o.server.limits.max_connections, 5u);
  EXPECT_EQ(o.config.max_form_params, 20u);
  EXPECT_TRUE(o.config.validate().empty()) << o.config.validate();
}

TEST_F(ConfigLoaderTest, UnknownKeyIsRefusedByName) {
  AppOptions o;
  try {
    load_config_file(write("acces_token_ttl = 5\n"), o);
    FAIL() << "a typo must not be ignored";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("acces_token_ttl"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_config_file(write("[limits]\nbody = 5\n"), o), std::runtime_error);
}

TEST_F(ConfigLoaderTest, WrongTypesAndValuesAreRefused) {
  AppOptions o;
  EXPECT_THROW(load_config_file(write("code_ttl = \"300\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("mode = \"staging\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("error_style = \"loose\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("listen = \"nohostport\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("[limits]\nbody_bytes = 0\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("this is not toml ==\n"), o), std::runtime_error);
}

TEST_F(ConfigLoaderTest, FloatsForIntegerKeysAreRefusedNamingTheKey) {
  // Found by fuzzing: 1e94 reached an unchecked float-to-integer conversion (undefined behaviour, caught by UBSan).
  AppOptions o;
  for (const char* text : {"[limits]\nbody_bytes = 1e94\n", "code_ttl = 300.0\n", "code_ttl = -1e30\n",
                           "code_ttl = inf\n", "code_ttl = nan\n"}) {
    try {
      load_config_file(write(text), o);
      ADD_FAILURE() << text << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("must be an integer"), std::string::npos) << text << ": " << e.what();
    }
  }
}

TEST_F(ConfigLoaderTest, ReadsTheBrandingTableAndItsEnvironmentVariables) {
  AppOptions o;
  ConfigSources sources;
  load_config_file(write("[branding]\nname = \"Acme Pay\"\nlogo_url = \"https://cdn.acme.example/l.png\"\n"
                         "accent_color = \"#0a7d33\"\n"),
                   o, &sources);
  EXPECT_EQ(o.config.brand_name, "Acme Pay");
  EXPECT_EQ(o.config.brand_logo_url, "https://cdn.acme.example/l.png");
  EXPECT_EQ(o.config.brand_accent_color, "#0a7d33");
  EXPECT_EQ(sources["branding.name"].rfind("file ", 0), 0u);
  const char* env[] = {"BOLTAUTH_BRANDING_NAME=Other Shop", "BOLTAUTH_BRANDING_ACCENT_COLOR=#123", nullptr};
  EXPECT_TRUE(load_config_env(o, env, &sources).empty());
  EXPECT_EQ(o.config.brand_name, "Other Shop");
  EXPECT_EQ(o.config.brand_accent_color, "#123");
  EXPECT_EQ(sources["branding.name"], "env BOLTAUTH_BRANDING_NAME");
  bool listed = false;
  for (const auto& [key, value] : effective_settings(o))
    listed = listed || (key == "branding.name" && value == "Other Shop");
  EXPECT_TRUE(listed);
  AppOptions bad;
  EXPECT_THROW(load_config_file(write("[branding]\naccent_color = \"red\"\n"), bad), std::runtime_error);
  EXPECT_THROW(load_config_file(write("[branding]\nlogo = \"x\"\n"), bad), std::runtime_error);
  const char* bad_env[] = {"BOLTAUTH_BRANDING_LOGO_URL=javascript:alert(1)", nullptr};
  EXPECT_THROW(load_config_env(bad, bad_env), std::runtime_error);
}

TEST_F(ConfigLoaderTest, ReadsKeyThrottleAndJanitorKeys) {
  AppOptions o;
  load_config_file(write("key_activation_delay = 120\nclient_auth_max_failures = 3\nclient_auth_failure_window = 30\n"
                         "janitor_interval = 0\njanitor_batch = 50\n"),
                   o);
  EXPECT_EQ(o.key_activation_delay, 120);
  EXPECT_EQ(o.config.client_auth_max_failures, 3u);
  EXPECT_EQ(o.config.client_auth_failure_window, 30);
  EXPECT_EQ(o.janitor_interval, 0);
  EXPECT_EQ(o.janitor_batch, 50);
  EXPECT_THROW(load_config_file(write("key_activation_delay = -1\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("janitor_batch = 0\n"), o), std::runtime_error);
  o.config.client_auth_failure_window = 0;
  EXPECT_FALSE(o.config.validate().empty());
}

TEST_F(ConfigLoaderTest, ReadsLogFormatAndLevel) {
  AppOptions o;
  EXPECT_EQ(o.log_format, "text");
  EXPECT_EQ(o.log_level, "info");
  load_config_file(write("log_format = \"json\"\nlog_level = \"debug\"\n"), o);
  EXPECT_EQ(o.log_format, "json");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_THROW(load_config_file(write("log_format = \"xml\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("log_level = \"trace\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("log_format = 1\n"), o), std::runtime_error);
  EXPECT_EQ(o.log_format, "json");  // a refused value changes nothing
}

TEST(ConfigValidateTest, RejectsUnsafeValues) {
  core::Config c;
  EXPECT_TRUE(c.validate().empty());
  c.issuer = "https://auth.example.com/";
  EXPECT_FALSE(c.validate().empty()) << "trailing slash would break byte-identical iss";
  c = {};
  c.issuer = "https://auth.example.com?x=1";
  EXPECT_FALSE(c.validate().empty());
  c = {};
  c.code_ttl = 3600;
  EXPECT_FALSE(c.validate().empty());
  c = {};
  c.refresh_grace_seconds = -1;
  EXPECT_FALSE(c.validate().empty());
}

TEST(ListenTest, ParsesHostAndPort) {
  AppOptions o;
  apply_listen("127.0.0.1:0", o);
  EXPECT_EQ(o.server.port, 0);
  apply_listen("[::1]:8443", o);
  EXPECT_EQ(o.server.host, "::1");
  EXPECT_EQ(o.server.port, 8443);
  EXPECT_THROW(apply_listen("127.0.0.1:70000", o), std::runtime_error);
  EXPECT_THROW(apply_listen("127.0.0.1:80x", o), std::runtime_error);
  EXPECT_THROW(apply_listen(":80", o), std::runtime_error);
}

}  // namespace
}  // namespace boltauth::server

namespace boltauth::server {
namespace {

class LoginConfigTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::filesystem::path write(const std::string& text) {
    const auto path = dir.path() / "boltauth.toml";
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(LoginConfigTest, ReadsTheLoginAndSmtpTables) {
  AppOptions o;
  load_config_file(write(R"(
[login]
otp_delivery = "smtp"
otp_ttl = 300
otp_max_attempts = 3
otp_resend_cooldown = 10
login_request_ttl = 900
session_ttl = 3600
otp_sends_per_email_per_hour = 4
otp_sends_per_ip_per_hour = 40
otp_attempts_per_ip_per_hour = 80

[smtp]
url = "smtps://mail.example:465"
from = "login@shop.example"
username = "u"
password = "p"
starttls = true
timeout_seconds = 7
)"),
                   o);
  EXPECT_EQ(o.otp_delivery, "smtp");
  EXPECT_EQ(o.config.otp_ttl, 300);
  EXPECT_EQ(o.config.otp_max_attempts, 3);
  EXPECT_EQ(o.config.otp_resend_cooldown, 10);
  EXPECT_EQ(o.config.login_request_ttl, 900);
  EXPECT_EQ(o.config.session_ttl, 3600);
  EXPECT_EQ(o.config.otp_sends_per_email_per_hour, 4u);
  EXPECT_EQ(o.config.otp_sends_per_ip_per_hour, 40u);
  EXPECT_EQ(o.config.otp_attempts_per_ip_per_hour, 80u);
  EXPECT_EQ(o.smtp.url, "smtps://mail.example:465");
  EXPECT_EQ(o.smtp.from, "login@shop.example");
  EXPECT_EQ(o.smtp.username, "u");
  EXPECT_EQ(o.smtp.password, "p");
  EXPECT_TRUE(o.smtp.starttls);
  EXPECT_EQ(o.smtp.timeout_seconds, 7);
  EXPECT_EQ(o.config.validate(), "");
}

TEST_F(LoginConfigTest, RefusesUnknownKeysAndBadValues) {
  AppOptions o;
  EXPECT_THROW(load_config_file(write("[login]\notp_tll = 5\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("[login]\notp_delivery = \"pigeon\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("[smtp]\nhost = \"x\"\n"), o), std::runtime_error);
  EXPECT_THROW(load_config_file(write("[login]\notp_ttl = -1\n"), o), std::runtime_error);
  AppOptions bad;
  bad.config.otp_max_attempts = 0;
  EXPECT_NE(bad.config.validate(), "");
  bad.config.otp_max_attempts = 5;
  bad.config.otp_ttl = 10;
  EXPECT_NE(bad.config.validate(), "");
}

}  // namespace
}  // namespace boltauth::server
