// The sink over one fcgi2 request's FCGI_STDOUT.
#pragma once

#include "pushcgi/sink.hpp"

struct FCGX_Request;

namespace pushcgi {

// Small writes go through fcgi2 (FCGX_PutStr, then FCGX_FFlush, since fcgi2 holds up to
// 8 KB otherwise), and FCGX_GetError decides the result: after the first failed write
// fcgi2's own return values still claim success. Writes of kDirectBytes or more (JPEG
// frames) are framed as FCGI_STDOUT records here and sent straight from the caller's
// buffers with one sendmsg, instead of being copied 8 KB at a time into fcgi2's buffer.
// fcgi2 still writes the final empty record and FCGI_END_REQUEST in FCGX_Finish_r.
class FcgiSink : public Sink {
 public:
  static constexpr std::size_t kDirectBytes = 8192;

  explicit FcgiSink(FCGX_Request& request);

  using Sink::write;
  WriteResult write(const std::string_view* pieces, std::size_t count) override;

 private:
  WriteResult write_buffered(const std::string_view* pieces, std::size_t count);
  WriteResult write_records(const std::string_view* pieces, std::size_t count);

  FCGX_Request& request_;
  WriteResult state_ = WriteResult::ok;
};

}  // namespace pushcgi
