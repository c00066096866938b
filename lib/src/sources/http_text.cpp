#include "http_text.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace pushcgi::detail {

namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct TextDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using CurlText = std::unique_ptr<char, TextDeleter>;

// One part of a parsed URL; nothing if it has none.
CurlText part_of(CURLU* url, CURLUPart which) {
  char* text = nullptr;
  if (curl_url_get(url, which, &text, 0) != CURLUE_OK) return nullptr;
  return CurlText(text);
}

std::string status_words(long http_status) {
  std::string words = "upstream answered " + std::to_string(http_status);
  if (http_status == 401) words += " (wrong or missing credentials)";
  if (http_status == 403) words += " (forbidden)";
  return words;
}

// strerror's text for a connect's errno, starting lower case: "connection refused".
std::string errno_words(long os_errno) {
  if (os_errno == 0) return "no answer";
  std::string text = std::strerror(static_cast<int>(os_errno));
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

Parsed<std::string> public_url(std::string_view text) {
  const std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return Parsed<std::string>::failure("out of memory");
  const CURLUcode parsed = curl_url_set(url.get(), CURLUPART_URL, std::string(text).c_str(), 0);
  if (parsed != CURLUE_OK) {
    return Parsed<std::string>::failure(std::string("not a valid URL: ") +
                                        curl_url_strerror(parsed));
  }
  const CurlText scheme = part_of(url.get(), CURLUPART_SCHEME);
  const CurlText host = part_of(url.get(), CURLUPART_HOST);
  if (!scheme || !host) return Parsed<std::string>::failure("not a valid URL: no host");
  std::string shown = std::string(scheme.get()) + "://" + host.get();
  if (const CurlText port = part_of(url.get(), CURLUPART_PORT))
    shown += ":" + std::string(port.get());
  const CurlText path = part_of(url.get(), CURLUPART_PATH);
  shown += path ? path.get() : "/";
  return shown;
}

std::string failure_words(CURLcode code, long http_status, long os_errno) {
  switch (code) {
    case CURLE_HTTP_RETURNED_ERROR:
      return status_words(http_status);
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve host";
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "cannot resolve the proxy";
    case CURLE_COULDNT_CONNECT:
      return "cannot connect: " + errno_words(os_errno);
    case CURLE_OPERATION_TIMEDOUT:
      // The only timeout curl has of its own (the watchdog is not curl's).
      return "cannot connect: no answer in " + std::to_string(kConnectTimeout.count()) + " s";
    case CURLE_PEER_FAILED_VERIFICATION:
      return "TLS: certificate not trusted";
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS: cannot read the CA file (--source-ca)";
    case CURLE_SSL_CONNECT_ERROR:
      return "TLS: handshake failed";
    case CURLE_TOO_MANY_REDIRECTS:
      return "more than 5 redirects";
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "redirected to a URL that is not http or https";
    case CURLE_GOT_NOTHING:
      return "upstream closed the connection without answering";
    case CURLE_WEIRD_SERVER_REPLY:
      return "upstream's answer is not HTTP";
    case CURLE_OK:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
      return "upstream closed the connection";
    case CURLE_SEND_ERROR:
      return "upstream closed the connection while we were sending";
    default:
      // curl_easy_strerror is a fixed text per code; it never holds the URL.
      return std::string("transfer failed: ") + curl_easy_strerror(code);
  }
}

std::string media_type(const char* content_type) {
  if (content_type == nullptr) return {};
  std::string_view text(content_type);
  text = text.substr(0, text.find(';'));
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::string type;
  for (const char c : text.substr(0, 60)) {
    type += std::isgraph(static_cast<unsigned char>(c)) != 0 && c != '"' && c != '\\' ? c : '?';
  }
  return type;
}

}  // namespace pushcgi::detail
