#include "pushcgi/fcgi_sink.hpp"

#include <fastcgi.h>
#include <fcgiapp.h>

#include <array>
#include <climits>
#include <vector>

#include "io.hpp"

namespace pushcgi {

namespace {

// FastCGI 1.0 section 3.3: a record's content is at most 65535 bytes.
constexpr std::size_t kMaxRecordContent = 65535;

std::array<unsigned char, FCGI_HEADER_LEN> record_header(int request_id, std::size_t length) {
  return {FCGI_VERSION_1,
          FCGI_STDOUT,
          static_cast<unsigned char>((request_id >> 8) & 0xff),
          static_cast<unsigned char>(request_id & 0xff),
          static_cast<unsigned char>((length >> 8) & 0xff),
          static_cast<unsigned char>(length & 0xff),
          0,
          0};
}

}  // namespace

FcgiSink::FcgiSink(FCGX_Request& request) : request_(request) {}

WriteResult FcgiSink::write(const std::string_view* pieces, std::size_t count) {
  if (state_ != WriteResult::ok) return state_;
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += pieces[i].size();
  state_ =
      total >= kDirectBytes ? write_records(pieces, count, total) : write_buffered(pieces, count);
  return state_;
}

std::size_t FcgiSink::unsent_bytes() const {
  return detail::unsent_bytes(request_.ipcFd, true);
}

WriteResult FcgiSink::write_buffered(const std::string_view* pieces, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (pieces[i].empty()) continue;
    FCGX_PutStr(pieces[i].data(), static_cast<int>(pieces[i].size()), request_.out);
  }
  FCGX_FFlush(request_.out);
  const int error = FCGX_GetError(request_.out);
  if (error == 0) return WriteResult::ok;
  return error > 0 ? detail::classify_errno(error) : WriteResult::failed;
}

WriteResult FcgiSink::write_records(const std::string_view* pieces, std::size_t count,
                                    std::size_t total) {
  // Whatever fcgi2 still buffers goes first, to keep the order.
  FCGX_FFlush(request_.out);
  if (const int error = FCGX_GetError(request_.out); error != 0) {
    return error > 0 ? detail::classify_errno(error) : WriteResult::failed;
  }
  const std::size_t records = (total + kMaxRecordContent - 1) / kMaxRecordContent;
  std::vector<std::array<unsigned char, FCGI_HEADER_LEN>> headers;
  headers.reserve(records);  // no reallocation: iov points into it
  std::vector<iovec> iov;
  iov.reserve(records + count + records);

  std::size_t piece = 0;
  std::size_t offset = 0;  // into pieces[piece]
  std::size_t left = total;
  while (left > 0) {
    const std::size_t length = std::min(left, kMaxRecordContent);
    headers.push_back(record_header(request_.requestId, length));
    iov.push_back(iovec{headers.back().data(), FCGI_HEADER_LEN});
    for (std::size_t need = length; need > 0;) {
      const std::string_view& p = pieces[piece];
      const std::size_t take = std::min(need, p.size() - offset);
      if (take > 0) iov.push_back(iovec{const_cast<char*>(p.data()) + offset, take});
      need -= take;
      offset += take;
      if (offset == p.size()) {
        ++piece;
        offset = 0;
      }
    }
    left -= length;
  }
  return detail::write_all(request_.ipcFd, iov, true);
}

}  // namespace pushcgi
