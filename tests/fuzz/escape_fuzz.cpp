// Everything that puts outside text into a response: HTML escaping (and the process table
// that shows names anyone can choose), JSON strings, SSE events, and response headers. The
// input is cut in two at its first NUL: a field (header name, event type) and a value.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.hpp"
#include "ps_view.hpp"
#include "pushcgi/client_pull.hpp"
#include "pushcgi/header.hpp"
#include "pushcgi/json.hpp"
#include "pushcgi/sse.hpp"
#include "pushcgi/text.hpp"

namespace {

// What a browser's EventSource makes of one event's lines (WHATWG HTML 9.2.6): its data.
std::string parsed_data(std::string_view stream) {
  std::string data;
  bool any = false;
  while (!stream.empty()) {
    const std::size_t end = stream.find('\n');
    FUZZ_CHECK(end != std::string_view::npos);  // every line is ended
    const std::string_view line = stream.substr(0, end);
    stream.remove_prefix(end + 1);
    if (line.empty()) break;  // the dispatching blank line
    if (line.rfind("data: ", 0) == 0) {
      if (any) data += '\n';
      data += line.substr(6);
      any = true;
    } else {
      FUZZ_CHECK(line.rfind("event: ", 0) == 0 || line.rfind("id: ", 0) == 0);
    }
  }
  FUZZ_CHECK(stream.empty());  // one event, nothing after its blank line
  return data;
}

// The line ends SSE knows (CRLF, LF, CR) as LF.
std::string lf_lines(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = input.find('\0');
  const std::string_view field = input.substr(0, cut);
  const std::string_view value = cut == std::string_view::npos ? input : input.substr(cut + 1);

  const std::string html = pushcgi::html_escape(value);
  FUZZ_CHECK(html.find_first_of("<>\"'") == std::string::npos);
  for (std::size_t at = html.find('&'); at != std::string::npos; at = html.find('&', at + 1)) {
    const std::string_view rest = std::string_view(html).substr(at);
    FUZZ_CHECK(rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 ||
               rest.rfind("&gt;", 0) == 0 || rest.rfind("&quot;", 0) == 0 ||
               rest.rfind("&#39;", 0) == 0);
  }

  // The process table with names anyone can choose is the table with harmless names, the
  // names replaced by their escaped forms.
  const auto table_of = [](std::string_view name, std::string_view user, std::string_view args) {
    pushcgi::ProcessSnapshot snapshot;
    pushcgi::ProcessInfo process;
    process.pid = 42;
    process.name = std::string(name);
    process.user = std::string(user);
    process.args = std::string(args);
    snapshot.processes.push_back(process);
    pushcgi::PsView view;
    view.show_args = true;
    return pushcgi::render_process_table(snapshot, view);
  };
  const std::string args = pushcgi::cmdline_to_args(input);
  // The markers are found in the harmless table first, then replaced from the last to the
  // first, so that a marker inside the inserted text is never taken for one.
  std::string expected = table_of("@NAME@", "@USER@", "@ARGS@");
  std::vector<std::pair<std::size_t, std::string>> places;
  for (const auto& [marker, text] : {std::pair<std::string_view, std::string_view>("@NAME@", value),
                                     {"@USER@", field},
                                     {"@ARGS@", args}}) {
    const std::size_t at = expected.find(marker);
    FUZZ_CHECK(at != std::string::npos);
    places.emplace_back(at, pushcgi::html_escape(text));
  }
  std::sort(places.rbegin(), places.rend());
  for (const auto& [at, escaped] : places) expected.replace(at, 6, escaped);
  FUZZ_CHECK(table_of(value, field, args) == expected);

  const std::string json = pushcgi::json_string(value);
  FUZZ_CHECK(json.size() >= 2 && json.front() == '"' && json.back() == '"');
  for (std::size_t i = 1; i + 1 < json.size(); ++i) {
    const auto c = static_cast<unsigned char>(json[i]);
    FUZZ_CHECK(c >= 0x20 && c != '<');
    if (c == '"') FUZZ_CHECK(json[i - 1] == '\\');
  }

  pushcgi::Event event(value, field);
  std::string stream;
  const pushcgi::Error error = pushcgi::format_event(event, stream);
  if (field.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    FUZZ_CHECK(error != pushcgi::Error::none && stream.empty());
  } else {
    FUZZ_CHECK(error == pushcgi::Error::none);
    FUZZ_CHECK(parsed_data(stream) == lf_lines(value));
  }

  // A header either goes out as one line, or the head is refused as a whole.
  pushcgi::ResponseHead head(200);
  head.add(field, value);
  if (head.error() == pushcgi::Error::none) {
    const std::string text = head.render(pushcgi::HeadStyle::cgi);
    std::size_t lines = 0;
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) {
      FUZZ_CHECK(at > 0 && text[at - 1] == '\r');
      ++lines;
    }
    FUZZ_CHECK(lines == 3);  // Status, the header, the blank line
    for (std::size_t at = text.find('\r'); at != std::string::npos; at = text.find('\r', at + 1)) {
      FUZZ_CHECK(at + 1 < text.size() && text[at + 1] == '\n');
    }
  }
  return 0;
}
