#include "snapshot_codec.hpp"

#include <gtest/gtest.h>

namespace pushcgi {
namespace {

TEST(SnapshotCodec, ASnapshotComesBackAsItWent) {
  ProcessSnapshot snapshot;
  snapshot.taken =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1795730111959123));
  snapshot.interval_seconds = 5.002;
  ProcessInfo init;
  init.pid = 1;
  init.user = "root";
  init.state = 'S';
  init.cpu_percent = 0.25;
  init.rss_bytes = 9437184;
  init.start_time = 1795700000;
  init.name = "systemd";
  snapshot.processes.push_back(init);
  ProcessInfo odd = init;
  odd.pid = 42;
  odd.ppid = 1;
  odd.user = "1001";
  odd.name = "tab\tnew\nline\\back";
  odd.args = "a b\tc";
  snapshot.processes.push_back(odd);
  const std::string message = encode_snapshot(snapshot);
  EXPECT_EQ(message.rfind("pushcgi-ps 1 1795730111959123 5.002000\n1\t0\troot\tS\t0.250\t", 0), 0u)
      << message;
  const std::optional<ProcessSnapshot> back = decode_snapshot(message);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->taken, snapshot.taken);
  EXPECT_DOUBLE_EQ(back->interval_seconds, 5.002);
  ASSERT_EQ(back->processes.size(), 2u);
  EXPECT_EQ(back->processes[1].name, odd.name);
  EXPECT_EQ(back->processes[1].args, odd.args);
  EXPECT_EQ(back->processes[1].user, "1001");
  EXPECT_EQ(back->processes[1].ppid, 1);
  EXPECT_EQ(back->processes[0].rss_bytes, 9437184u);
  EXPECT_EQ(back->processes[0].state, 'S');
  EXPECT_DOUBLE_EQ(back->processes[0].cpu_percent, 0.25);
}

TEST(SnapshotCodec, OtherMessagesAreNoSnapshot) {
  for (const char* message :
       {"", "\xFF\xD8\xFF", "pushcgi-ps 2 1 0\n", "pushcgi-ps 1 x 0\n", "pushcgi-ps 1 1 0",
        "pushcgi-ps 1 1 0\n1\t0\troot\tS\t0\t0\t0\tname\n",
        "pushcgi-ps 1 1 0\n1\t0\troot\tSS\t0\t0\t0\tname\t\n",
        "pushcgi-ps 1 1 0\nx\t0\troot\tS\t0\t0\t0\tname\t\n",
        "pushcgi-ps 1 1 0\n1\t0\troot\tS\t0\t0\t0\tbad\\escape\t\n"}) {
    EXPECT_FALSE(decode_snapshot(message)) << message;
  }
  EXPECT_TRUE(decode_snapshot("pushcgi-ps 1 1 0\n"));  // no process at all
}

}  // namespace
}  // namespace pushcgi
