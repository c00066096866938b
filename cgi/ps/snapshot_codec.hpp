// A process snapshot as one Redis message, for ps.fcgi --publish and --source redis://: a
// header line "pushcgi-ps 1 TAKEN_MICROSECONDS INTERVAL_SECONDS", then a line per process
// of tab-separated fields (pid, ppid, user, state, %cpu, rss bytes, start, name, args), with
// \\, \t and \n escaped in the texts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "process_table.hpp"

namespace pushcgi {

std::string encode_snapshot(const ProcessSnapshot& snapshot);
// Nothing for a message that is not one (another program's, a newer version's).
std::optional<ProcessSnapshot> decode_snapshot(std::string_view message);

}  // namespace pushcgi
