// Process-wide stop request: SIGTERM, SIGINT, SIGHUP and SIGUSR1 (fcgi2's and mod_fastcgi's
// graceful stop) only set a flag and make an eventfd readable; every wait in the program
// polls that descriptor, and all shutdown work happens in ordinary code.
#pragma once

namespace pushcgi::detail {

// Installs the handlers (before FCGX_Init, which keeps handlers already set), ignores
// SIGPIPE, and installs an empty handler without SA_RESTART for kick_signal(), which
// interrupts a thread blocked in accept(). Returns the stop descriptor. Idempotent.
int install_stop_signal();

// The stop descriptor (-1 before install_stop_signal).
int stop_fd();
bool stop_requested();
// What the handlers do, for ordinary code (Server::stop, tests).
void request_stop();

// Signal used to interrupt accept() in a worker thread.
int kick_signal();

// Blocks the stop signals in the calling thread (workers), so that they reach the main
// thread, which only waits.
void block_stop_signals();

}  // namespace pushcgi::detail
