#include "pushcgi/sse.hpp"

namespace pushcgi {

namespace {

// Calls line(l) for every line of text, split on CRLF, LF and CR.
template <typename F>
void for_each_line(std::string_view text, F line) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) {
      line(text.substr(start));
      return;
    }
    line(text.substr(start, end - start));
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
  }
}

}  // namespace

Error format_event(const Event& event, std::string& out) {
  if (has_line_break(event.type) || (event.id && has_line_break(*event.id))) {
    return Error::bad_event_field;
  }
  if (!event.type.empty()) out.append("event: ").append(event.type).append("\n");
  if (event.id) out.append("id: ").append(*event.id).append("\n");
  if (event.retry) out.append("retry: ").append(std::to_string(event.retry->count())).append("\n");
  for_each_line(event.data,
                [&out](std::string_view line) { out.append("data: ").append(line).append("\n"); });
  out.append("\n");
  return Error::none;
}

std::string format_comment(std::string_view text) {
  std::string out;
  for_each_line(text,
                [&out](std::string_view line) { out.append(": ").append(line).append("\n"); });
  return out;
}

ResponseHead event_stream_head() {
  ResponseHead head(200);
  head.add("Content-Type", "text/event-stream");
  head.add_stream_headers();
  return head;
}

}  // namespace pushcgi
