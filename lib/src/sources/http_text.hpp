// The words /state and the log use for an HTTP camera: its URL without what may be secret,
// and what went wrong, made from curl's codes and the HTTP status, never from curl's own
// messages (which may quote the URL).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <string_view>

#include "pushcgi/error.hpp"

namespace pushcgi::detail {

// scheme://host[:port]/path of an http(s) URL: no user-info, query or fragment (cheap
// cameras take ?user=admin&pwd=... in the query). Refused if curl cannot parse it; the
// message never quotes it.
Parsed<std::string> public_url(std::string_view url);

// curl's own timeout: for the connection (the watchdog takes care of the rest).
constexpr std::chrono::seconds kConnectTimeout{10};

// Why a transfer failed, from what curl returned, the HTTP status of the last response and
// the errno of a failed connect: "cannot connect: connection refused", "upstream answered
// 401 (wrong or missing credentials)", "TLS: certificate not trusted", ...
std::string failure_words(CURLcode code, long http_status, long os_errno);

// The media type of a Content-Type value, for a message: no parameters, printable, at most
// 60 characters; "" for none.
std::string media_type(const char* content_type);

}  // namespace pushcgi::detail
