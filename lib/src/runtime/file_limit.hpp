// The open-file limit: raised for the server's own connections, given back to the programs
// it starts.
#pragma once

#include <sys/resource.h>

namespace pushcgi::detail {

// Raises the soft RLIMIT_NOFILE to the hard one (each stream holds a descriptor; Debian's
// soft 1,024 would refuse streams long before the threads run out, so, as nginx's
// worker_rlimit_nofile does) and remembers the soft limit the process was started with.
// Returns the limit now in force.
rlimit raise_file_limit();

// The soft and hard limit the process was started with, for a program it starts: a camera
// program gets the limits it would have got from the operator, not the raised one (a
// select()-based program breaks on descriptors above 1,023). Until raise_file_limit has run,
// the limits now in force.
rlimit inherited_file_limit();

}  // namespace pushcgi::detail
