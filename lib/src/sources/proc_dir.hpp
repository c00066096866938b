// Reading /proc directories with system calls alone, for a child between fork() and execve()
// (or the keeper), where opendir() is off limits: it allocates, and a fork of a
// multi-threaded program may find malloc's lock held by a thread that is not there.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace pushcgi::detail {

// What getdents64(2) fills in; glibc declares no type for the raw system call.
struct LinuxDirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

// The number an entry's name is (a process, a descriptor); -1 for any other name.
inline int entry_number(const char* name) {
  if (*name == '\0') return -1;
  int number = 0;
  for (; *name != '\0'; ++name) {
    if (*name < '0' || *name > '9' || number > 100000000) return -1;
    number = number * 10 + (*name - '0');
  }
  return number;
}

// Calls visit(number, name) for each numbered entry of the open directory dir, from its
// start. False if reading it failed.
template <typename Visit>
bool for_each_numbered_entry(int dir, Visit visit) {
  if (lseek(dir, 0, SEEK_SET) != 0) return false;
  alignas(8) char buffer[4096];
  for (;;) {
    const long n = syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n < 0) return false;
    if (n == 0) return true;
    for (long at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const LinuxDirent64*>(buffer + at);
      const int number = entry_number(entry->d_name);
      if (number >= 0) visit(number, entry->d_name);
      at += entry->d_reclen;
    }
  }
}

}  // namespace pushcgi::detail
