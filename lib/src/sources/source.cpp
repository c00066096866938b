#include "pushcgi/sources/source.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <system_error>
#include <utility>

#include "pushcgi/text.hpp"

namespace pushcgi {

Parsed<std::vector<std::string>> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        word += text[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) return Parsed<std::vector<std::string>>::failure("unclosed quote");
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return Parsed<std::vector<std::string>>::failure("no program given");
  return words;
}

}  // namespace pushcgi

#include "http_text.hpp"
#include "sources.hpp"

namespace pushcgi {

namespace {

// The scheme of a spec that is a URL (RFC 3986 3.1: a letter, then letters, digits, '+',
// '-' or '.', then "://"); "" for any other spec.
std::string_view url_scheme(std::string_view spec) {
  const std::size_t end = spec.find("://");
  if (end == std::string_view::npos || end == 0) return {};
  const std::string_view scheme = spec.substr(0, end);
  const auto scheme_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
  };
  if (std::isalpha(static_cast<unsigned char>(scheme[0])) == 0 ||
      !std::all_of(scheme.begin(), scheme.end(), scheme_char)) {
    return {};
  }
  return scheme;
}

// http:// and https:// only; the messages never quote the URL (it may hold a password).
Parsed<std::unique_ptr<FrameSource>> http_source(std::string_view url, std::string_view scheme,
                                                 const SourceOptions& options) {
  using Result = Parsed<std::unique_ptr<FrameSource>>;
  std::string lower(scheme);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (lower == "file") {
    return Result::failure(
        "file:// URLs are not sources: use file:PATH for a picture that "
        "another program rewrites");
  }
  if (lower != "http" && lower != "https") {
    return Result::failure("unsupported URL scheme " + quote_input(scheme) +
                           ": expected http:// or https://");
  }
  detail::init_curl_once();
  Parsed<std::string> shown = detail::public_url(url);
  if (!shown) return Result::failure(shown.error());
  return Result(
      std::make_unique<detail::HttpSource>(std::string(url), std::move(shown.value()), options));
}

}  // namespace

Parsed<std::unique_ptr<FrameSource>> make_source(std::string_view spec,
                                                 const SourceOptions& options) {
  using Result = Parsed<std::unique_ptr<FrameSource>>;
  const auto path_after = [spec](std::string_view prefix) {
    return std::string(spec.substr(prefix.size()));
  };
  if (spec == "testcard") return Result(std::make_unique<detail::TestcardSource>(options));
  if (spec.rfind("redis://", 0) == 0 || spec.rfind("redis+unix://", 0) == 0) {
    Parsed<detail::RedisEndpoint> endpoint = detail::parse_redis_url(spec);
    if (!endpoint) return Result::failure(endpoint.error());
    return Result(std::make_unique<detail::RedisSource>(std::move(endpoint.value()), options));
  }
  if (const std::string_view scheme = url_scheme(spec); !scheme.empty()) {
    return http_source(spec, scheme, options);
  }
  if (spec.rfind("file:", 0) == 0 && spec.size() > 5) {
    return Result(std::make_unique<detail::FileSource>(path_after("file:"), options));
  }
  if (spec.rfind("dir:", 0) == 0 && spec.size() > 4) {
    return Result(std::make_unique<detail::DirSource>(path_after("dir:"), options));
  }
  if (spec.rfind("exec:", 0) == 0) {
    Parsed<std::vector<std::string>> words = split_words(spec.substr(5));
    if (!words) return Result::failure("exec: " + words.error());
    return Result(std::make_unique<detail::ExecSource>(std::move(words.value()), options));
  }
  return Result::failure(
      "expected testcard, file:PATH, dir:PATH, exec:PROGRAM ARGS..., http(s)://URL or "
      "redis://HOST[:PORT]/CHANNEL");
}

}  // namespace pushcgi
