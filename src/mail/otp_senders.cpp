#include "mail/otp_senders.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>

namespace boltauth::mail {

std::string otp_subject(const core::ports::OtpMessage& m) { return "Your login code: " + m.code; }

std::string otp_body(const core::ports::OtpMessage& m) {
  return "Your one-time code to log in to " + m.client_name + " is:\r\n\r\n    " + m.code + "\r\n\r\nIt is valid for " +
         std::to_string(m.valid_minutes) + " minutes. If you did not try to log in, you can ignore this message.\r\n";
}

FileOutbox::FileOutbox(const std::filesystem::path& data_dir) : file_(data_dir / "outbox" / "otp.jsonl") {
  std::filesystem::create_directories(file_.parent_path());
  std::filesystem::permissions(file_.parent_path(), std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
}

bool FileOutbox::send(const core::ports::OtpMessage& m, std::string& error) {
  boost::json::object o{{"to", m.to}, {"subject", otp_subject(m)}, {"code", m.code}, {"body", otp_body(m)}};
  const std::string line = boost::json::serialize(o) + "\n";
  std::lock_guard lock(mutex_);
  // O_APPEND: one write per line keeps lines whole even when a reader tails the file.
  const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "open " + file_.string() + ": " + std::strerror(errno);
    return false;
  }
  const auto written = ::write(fd, line.data(), line.size());
  const int err = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    error = "write " + file_.string() + ": " + std::strerror(err);
    return false;
  }
  return true;
}

namespace {

struct Upload {
  std::string data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, u->data.size() - u->offset);
  std::copy_n(u->data.data() + u->offset, n, buffer);
  u->offset += n;
  return n;
}

// RFC 5322 addresses only; CR/LF in a header would inject headers (the email was normalized, the name was not).
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '\r' && c != '\n') out.push_back(c);
  return out;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

SmtpSender::SmtpSender(SmtpOptions options) : options_(std::move(options)) {
  static CurlGlobal once;  // curl_global_init is not thread-safe: done once, before any sender runs
}

bool SmtpSender::send(const core::ports::OtpMessage& m, std::string& error) {
  CURL* curl = curl_easy_init();
  if (!curl) {
    error = "curl_easy_init failed";
    return false;
  }
  Upload upload;
  upload.data = "From: " + header_safe(options_.from) + "\r\nTo: " + header_safe(m.to) +
                "\r\nSubject: " + header_safe(otp_subject(m)) +
                "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + otp_body(m);
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.to + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, ("<" + options_.from + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options_.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options_.timeout_seconds);
  if (options_.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    error = std::string("smtp: ") + curl_easy_strerror(rc);
    return false;
  }
  return true;
}

}  // namespace boltauth::mail
