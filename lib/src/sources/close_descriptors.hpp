// Closing every inherited descriptor in a child between fork() and execve().
//
// A fork of a multi-threaded program may make only async-signal-safe calls (another thread
// may have held malloc's lock at the fork), so these use system calls alone: no opendir(),
// no allocation, no stdio.
#pragma once

namespace pushcgi::detail {

// Closes every descriptor from `first` up, whatever the kernel allows: close_range(2) first;
// where it fails (kernels before 5.9, a seccomp filter that refuses it), each entry of
// /proc/self/fd; without /proc, every number below the descriptor limit. False only if the
// last way failed too.
bool close_descriptors_from(int first);

// The two fallbacks on their own, for the tests.
bool close_listed_descriptors_from(int first);
bool close_numbered_descriptors_from(int first);

}  // namespace pushcgi::detail
