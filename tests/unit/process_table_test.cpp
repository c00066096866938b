#include "process_table.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/proc_files.hpp"
#include "support/process.hpp"

namespace pushcgi {
namespace {

const std::string kFixture = std::string(PUSHCGI_SOURCE_DIR) + "/tests/fixtures/proc";

const ProcessInfo* find(const ProcessSnapshot& snapshot, int pid) {
  for (const ProcessInfo& process : snapshot.processes) {
    if (process.pid == pid) return &process;
  }
  return nullptr;
}

TEST(ProcStat, ParsesTheFieldsItUses) {
  const auto stat = detail::parse_proc_stat(
      "1234 (bash) S 1000 1234 1234 34816 1300 4194304 2990 12650 0 3 11 7 31 17 20 0 1 0 "
      "5310 9027584 1372 18446744073709551615 1 1 0 0 0 0 65536 3670020 1266777851 0 0 0 17 "
      "1 0 0 0 0 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 1234);
  EXPECT_EQ(stat->comm, "bash");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 1000);
  EXPECT_EQ(stat->utime, 11u);
  EXPECT_EQ(stat->stime, 7u);
  EXPECT_EQ(stat->starttime, 5310u);
  EXPECT_EQ(stat->rss_pages, 1372);
}

TEST(ProcStat, NameRunsToTheLastParenthesis) {
  const auto stat = detail::parse_proc_stat(
      "7 (a) S 1 (b) c) R 3 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 99 0 5 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->comm, "a) S 1 (b) c");
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->ppid, 3);
}

TEST(ProcStat, TruncatedOrGarbageIsRefused) {
  EXPECT_FALSE(detail::parse_proc_stat(""));
  EXPECT_FALSE(detail::parse_proc_stat("78 (trunc"));
  EXPECT_FALSE(detail::parse_proc_stat("78 (x) S 1 2 3"));
  EXPECT_FALSE(detail::parse_proc_stat("x (y) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 99 0 5 0"));
  EXPECT_FALSE(detail::parse_proc_stat(") ("));
}

TEST(ProcStatus, RealUid) {
  EXPECT_EQ(parse_status_uid("Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t0\n").value_or(9),
            1000u);
  EXPECT_FALSE(parse_status_uid("Name:\tx\n"));
  EXPECT_FALSE(parse_status_uid("Name:\tx\nUid:\tabc\n"));
}

TEST(ProcCmdline, ArgumentsJoinedAndControlCharactersBlanked) {
  EXPECT_EQ(cmdline_to_args(std::string("a\0b c\0\x1b[31m\0", 12)), "a b c  [31m");
  EXPECT_EQ(cmdline_to_args(""), "");
}

TEST(ProcessTable, ReadsTheFixture) {
  ProcessTable table(kFixture);
  const ProcessSnapshot snapshot = table.take();
  ASSERT_EQ(snapshot.processes.size(), 3u);  // 77 vanished, 78 was cut short
  EXPECT_EQ(snapshot.processes[0].pid, 1);
  EXPECT_EQ(snapshot.processes[1].pid, 42);
  EXPECT_EQ(snapshot.processes[2].pid, 99);
  EXPECT_EQ(snapshot.interval_seconds, 0);

  const ProcessInfo& init = snapshot.processes[0];
  EXPECT_EQ(init.name, "systemd");
  EXPECT_EQ(init.user, "root");
  EXPECT_EQ(init.ppid, 0);
  EXPECT_EQ(init.state, 'S');
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_EQ(init.rss_bytes, 3000u * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(init.start_time, 1700000000 + static_cast<std::int64_t>(100 / ticks));
  // First snapshot: CPU over the process's life, as ps shows it.
  EXPECT_NEAR(init.cpu_percent, 100.0 * (500 / ticks) / (1000.0 - 100 / ticks), 1e-9);

  const ProcessInfo& evil = snapshot.processes[1];
  EXPECT_EQ(evil.name, "<script>alert(1)</script>");
  EXPECT_EQ(evil.state, 'R');
  EXPECT_EQ(evil.args, "");  // not without show_args
  EXPECT_EQ(snapshot.processes[2].name, "a) b (c");
  EXPECT_EQ(snapshot.processes[2].user, "4242");  // no such user: the number
}

TEST(ProcessTable, ArgumentsOnlyWhenAskedFor) {
  ProcessTable table(kFixture, true);
  const ProcessSnapshot snapshot = table.take();
  EXPECT_EQ(find(snapshot, 42)->args, "evil --password=hunter2");
  EXPECT_EQ(find(snapshot, 1)->args, "/sbin/init splash");
}

TEST(ProcessTable, CpuOverTheLastInterval) {
  test::TempDir dir;
  std::filesystem::copy(kFixture, dir.path(), std::filesystem::copy_options::recursive);
  ProcessTable table(dir.path());
  table.take();
  // 3 s later process 42 has used 1.5 s more CPU: 50 %.
  const auto ticks = static_cast<long>(sysconf(_SC_CLK_TCK));
  std::string stat = test::read_file(dir.file("42/stat"));
  const std::string old_utime = " 5000 0 0 0 20 ";
  ASSERT_NE(stat.find(old_utime), std::string::npos);
  stat.replace(stat.find(old_utime), old_utime.size(),
               " " + std::to_string(5000 + ticks * 3 / 2) + " 0 0 0 20 ");
  std::ofstream(dir.file("42/stat")) << stat;
  std::ofstream(dir.file("uptime")) << "1003.00 1900.00\n";
  const ProcessSnapshot snapshot = table.take();
  EXPECT_DOUBLE_EQ(snapshot.interval_seconds, 3.0);
  EXPECT_NEAR(find(snapshot, 42)->cpu_percent, 50.0, 1e-9);
  EXPECT_NEAR(find(snapshot, 1)->cpu_percent, 0.0, 1e-9);
}

TEST(ProcessTable, ReadsTheLiveProcList) {
  ProcessTable table;
  const ProcessSnapshot snapshot = table.take();
  const ProcessInfo* self = find(snapshot, getpid());
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->ppid, getppid());
  EXPECT_EQ(self->name, "unit_tests");
  EXPECT_GT(self->rss_bytes, 0u);
  EXPECT_TRUE(self->state == 'R' || self->state == 'S') << self->state;
  EXPECT_GT(snapshot.processes.size(), 1u);
  EXPECT_TRUE(self->args.empty());
}

TEST(SelectProcesses, SortAndTop) {
  ProcessSnapshot snapshot;
  for (int pid : {5, 3, 9, 7}) {
    ProcessInfo process;
    process.pid = pid;
    process.cpu_percent = pid == 3 ? 50 : pid;
    process.rss_bytes = static_cast<std::uint64_t>(100 - pid);
    snapshot.processes.push_back(process);
  }
  const auto pids = [](const std::vector<const ProcessInfo*>& rows) {
    std::vector<int> out;
    for (const ProcessInfo* row : rows) out.push_back(row->pid);
    return out;
  };
  EXPECT_EQ(pids(select_processes(snapshot, ProcessSort::pid, 0)), (std::vector<int>{3, 5, 7, 9}));
  EXPECT_EQ(pids(select_processes(snapshot, ProcessSort::cpu, 2)), (std::vector<int>{3, 9}));
  EXPECT_EQ(pids(select_processes(snapshot, ProcessSort::rss, 0)), (std::vector<int>{3, 5, 7, 9}));
  EXPECT_EQ(pids(select_processes(snapshot, ProcessSort::pid, 10)).size(), 4u);
}

}  // namespace
}  // namespace pushcgi
