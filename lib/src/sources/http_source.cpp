#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>

#include "backoff.hpp"
#include "base/version.hpp"
#include "batched_splitter.hpp"
#include "http_text.hpp"
#include "pushcgi/jpeg.hpp"
#include "pushcgi/log.hpp"
#include "sources.hpp"

namespace pushcgi::detail {

namespace {

using Clock = std::chrono::steady_clock;

struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};

// Ends a transfer however transfer() returns; a finished one leaves its connection in the
// multi handle's cache for the next request (keep-alive).
class Attached {
 public:
  Attached(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy) {
    curl_multi_add_handle(multi_, easy_);
  }
  ~Attached() { curl_multi_remove_handle(multi_, easy_); }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;

 private:
  CURLM* multi_;
  CURL* easy_;
};

// Response headers beyond this are refused (a camera sends a few hundred bytes): told as too
// much header rather than as curl's own limit (300 KB), which reads as a closed connection.
constexpr std::size_t kMostHeaderBytes = 64 * 1024;

// libcurl 8.6 and later name a header line over its limit CURLE_TOO_LARGE.
bool is_too_large([[maybe_unused]] CURLcode code) {
#if LIBCURL_VERSION_NUM >= 0x080600
  return code == CURLE_TOO_LARGE;
#else
  return false;
#endif
}

// Longest wait in curl_multi_poll, so that the watchdog is looked at now and then even when
// curl has no timer of its own.
constexpr std::chrono::milliseconds kLongestPoll{1000};

}  // namespace

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One request and what its body turned out to be. Lives on transfer()'s stack; curl's body
// callback and the splitter's frame callback point into it.
struct HttpSource::Transfer {
  enum class Kind { unknown, multipart, image, other };

  Transfer(HttpSource& owner, CURL* handle)
      : source(owner), easy(handle), last_frame(Clock::now()) {}
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // The watchdog: source_timeout for each whole frame, the first included (a snapshot too).
  Clock::time_point deadline() const { return last_frame + source.options_.source_timeout; }

  HttpSource& source;
  CURL* easy;
  Kind kind = Kind::unknown;
  std::string type;   // the response's media type, for the words
  std::string image;  // image: the body so far
  std::optional<BatchedSplitter> splitter;
  std::uint64_t frames = 0;
  Clock::time_point first_frame;
  Clock::time_point last_frame;  // or when the request started
  std::string abort_reason;      // why on_body or on_header stopped the transfer
  std::size_t header_bytes = 0;  // of every response of this request (redirects, 401s)
  bool watchdog_fired = false;   // no whole frame for source_timeout
};

HttpSource::HttpSource(std::string url, std::string description, const SourceOptions& options)
    : ThreadedSource(options),
      url_(std::move(url)),
      description_(std::move(description)),
      options_(options) {}

std::string HttpSource::default_description() const {
  return description_;
}

void HttpSource::configure(CURL* easy) const {
  static const std::string user_agent = std::string("pushcgi/") + detail::version();
  curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, static_cast<long>(kConnectTimeout.count()));
  // stop() must not wait for a name being resolved: curl's threaded resolver is left to finish
  // on its own instead of being joined in curl_multi_remove_handle (a camera's DNS that does
  // not answer held the stop, and with it the camera's next start, for 14 s). libcurl before
  // 8.14 has a narrow race on this path (curl issue 17256: a stop in the very instant the
  // lookup ends reads the resolver's freed state); the wait it avoids is certain, the race
  // needs a lookup that ends within nanoseconds of the stop.
  curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
  // No proxy, whatever http_proxy, https_proxy or ALL_PROXY say: cameras sit on the LAN, and
  // their traffic and credentials must not go through a system-wide proxy by surprise.
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  // Basic or Digest, whichever the camera asks for; curl sends the credentials to no other
  // host after a redirect (CURLOPT_UNRESTRICTED_AUTH stays off).
  curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC | CURLAUTH_DIGEST));
  // A 4xx or 5xx answer ends the transfer with its status (a 401 only once the credentials
  // have been tried), instead of its error page being taken for a stream.
  curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &HttpSource::on_body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &HttpSource::on_header);
  if (!options_.netrc_file.empty()) {
    // The URL's own user-info, when it has some, wins.
    curl_easy_setopt(easy, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
    curl_easy_setopt(easy, CURLOPT_NETRC_FILE, options_.netrc_file.c_str());
  }
  if (!options_.ca_file.empty()) {
    // Instead of the system's CAs, not beside them: Debian's libcurl also has a CA folder.
    curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
  }
}

void HttpSource::run() {
  const std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  const std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!multi || !easy) {
    report_problem("cannot set up libcurl");
    return;
  }
  configure(easy.get());
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) /
                      std::max(options_.fps, 1u);
  Backoff backoff;
  receiving_ = false;
  auto next_request = Clock::now();
  for (;;) {
    if (!wait_until(next_request)) return;
    const auto started = Clock::now();
    const Ending end = transfer(multi.get(), easy.get());
    if (end.stopping) return;
    if (end.snapshot) {
      // A snapshot camera: the next one a frame interval after this one was asked for.
      backoff.reset();
      next_request = std::max(started + period, Clock::now());
      continue;
    }
    receiving_ = false;
    log(LogLevel::warning, log_name() + ": " + end.reason);
    const std::chrono::seconds delay = backoff.next(end.healthy);
    record_failure(end.reason, end.reason + "; retry in " + std::to_string(delay.count()) + " s");
    next_request = Clock::now() + delay;
  }
}

HttpSource::Ending HttpSource::transfer(CURLM* multi, CURL* easy) {
  Transfer transfer(*this, easy);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
  const Attached attached(multi, easy);
  for (;;) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (const CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
        return judge(transfer, message->data.result);
      }
    }
    const auto now = Clock::now();
    if (now >= transfer.deadline()) {
      transfer.watchdog_fired = true;
      return judge(transfer, CURLE_OK);
    }
    const auto wait = std::min<Clock::duration>(transfer.deadline() - now, kLongestPoll);
    const auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    curl_waitfd stopping{stop_fd(), CURL_WAIT_POLLIN, 0};
    curl_multi_poll(multi, &stopping, 1, static_cast<int>(wait_ms), nullptr);
    if (stopping.revents != 0) {
      Ending end;
      end.stopping = true;
      return end;
    }
  }
}

// How a transfer ended, in words.
HttpSource::Ending HttpSource::judge(Transfer& transfer, CURLcode code) {
  if (transfer.splitter) {
    transfer.splitter->finish();  // a frame cut short is dropped
  }
  Ending end;
  end.healthy =
      transfer.frames > 0 && transfer.last_frame - transfer.first_frame >= Backoff::kHealthyRun;
  long status = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
  const bool success = status >= 200 && status < 300;
  const std::string not_jpeg =
      "not a JPEG stream (" +
      (transfer.type.empty() ? std::string("no Content-Type") : "Content-Type: " + transfer.type) +
      ")";
  if (transfer.watchdog_fired) {
    const std::string seconds = std::to_string(options_.source_timeout.count()) + " s";
    // A kept-alive connection (a snapshot camera's) was not made by this request: neither
    // curl's connect time nor its count of connections says it is there. Whether the
    // request went out does.
    long connections = 0;
    curl_off_t request_sent = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_NUM_CONNECTS, &connections);
    curl_easy_getinfo(transfer.easy, CURLINFO_PRETRANSFER_TIME_T, &request_sent);
    if (transfer.kind == Transfer::Kind::other && transfer.frames == 0) {
      end.reason = not_jpeg;
    } else if (status == 0 && connections == 0 && request_sent == 0) {
      end.reason = "cannot connect: no answer in " + seconds;
    } else if (status == 0) {
      end.reason = "upstream did not answer in " + seconds;
    } else {
      end.reason = "no whole frame for " + seconds;
    }
  } else if (code == CURLE_WRITE_ERROR && !transfer.abort_reason.empty()) {
    end.reason = transfer.abort_reason;
  } else if (code == CURLE_OK && success && transfer.kind == Transfer::Kind::image) {
    end.snapshot = true;
    // Checked by the caller (SourceRunner), as every source's frames.
    frame_arrived(transfer, std::move(transfer.image));
  } else if (code == CURLE_OK && success && transfer.kind == Transfer::Kind::other &&
             transfer.frames == 1 && !bare_stream_seen_) {
    // One whole JPEG and the end: a snapshot camera that calls it application/octet-stream
    // or text/plain. Its frame has been handed over by the splitter. (Once an answer of this
    // URL held several frames it is a stream, and one that ends after a frame has failed:
    // it is not asked again at --fps without backoff.)
    end.snapshot = true;
  } else if ((code == CURLE_OUT_OF_MEMORY || is_too_large(code)) &&
             transfer.kind == Transfer::Kind::unknown && transfer.header_bytes > 0) {
    // curl refuses a single header line over 100 KB this way (CURLE_TOO_LARGE from 8.6).
    end.reason = "upstream sent too much header";
  } else if (code == CURLE_OK && !success) {
    end.reason = "upstream answered " + std::to_string(status);
  } else if (code == CURLE_OK && transfer.kind == Transfer::Kind::unknown) {
    end.reason = "upstream answered with an empty body";
  } else if (code == CURLE_OK && transfer.kind == Transfer::Kind::other && transfer.frames == 0) {
    end.reason = not_jpeg;
  } else {
    long os_errno = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_OS_ERRNO, &os_errno);
    end.reason = failure_words(code, status, os_errno);
  }
  return end;
}

std::size_t HttpSource::on_body(char* data, std::size_t size, std::size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer.kind == Transfer::Kind::unknown) transfer.source.begin_body(transfer);
  if (transfer.kind == Transfer::Kind::image) {
    if (transfer.image.size() + bytes > transfer.source.options_.max_frame_bytes) {
      transfer.abort_reason = "a snapshot larger than --max-frame-kib";
      return 0;  // ends the transfer with CURLE_WRITE_ERROR
    }
    transfer.image.append(data, bytes);
    return bytes;
  }
  transfer.splitter->feed(std::string_view(data, bytes));
  return bytes;
}

std::size_t HttpSource::on_header(char* /*line*/, std::size_t size, std::size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  transfer.header_bytes += bytes;
  if (transfer.header_bytes > kMostHeaderBytes) {
    transfer.abort_reason = "upstream sent too much header";
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  return bytes;
}

// The first bytes of the body: what the Content-Type says it is.
void HttpSource::begin_body(Transfer& transfer) {
  char* content_type = nullptr;
  curl_easy_getinfo(transfer.easy, CURLINFO_CONTENT_TYPE, &content_type);
  transfer.type = media_type(content_type);
  std::string lower = transfer.type;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  if (lower.rfind("image/", 0) == 0) {
    transfer.kind = Transfer::Kind::image;
    return;
  }
  // multipart/x-mixed-replace, or a bare MJPEG byte stream (ffmpeg -f mjpeg over HTTP): the
  // splitter finds the JPEGs, skipping the boundaries and part headers between them.
  transfer.kind =
      lower.rfind("multipart/", 0) == 0 ? Transfer::Kind::multipart : Transfer::Kind::other;
  transfer.splitter.emplace(
      options_.max_frame_bytes,
      [&transfer](std::string frame) { transfer.source.frame_arrived(transfer, std::move(frame)); },
      [&transfer](std::string_view reason, std::uint64_t count) {
        transfer.source.drop(reason, count);
      });
}

void HttpSource::frame_arrived(Transfer& transfer, std::string jpeg) {
  transfer.last_frame = Clock::now();
  if (transfer.frames++ == 0) transfer.first_frame = transfer.last_frame;
  if (transfer.frames > 1 && transfer.kind == Transfer::Kind::other) bare_stream_seen_ = true;
  if (!receiving_) {
    receiving_ = true;
    set_status({});
    const char* what = transfer.kind == Transfer::Kind::image       ? "snapshots"
                       : transfer.kind == Transfer::Kind::multipart ? "an MJPEG stream"
                                                                    : "a bare MJPEG stream";
    log(LogLevel::info, log_name() + ": receiving " + what + " (" +
                            (transfer.type.empty() ? "no Content-Type" : transfer.type) + ")");
  }
  emit(std::move(jpeg));
}

}  // namespace pushcgi::detail
