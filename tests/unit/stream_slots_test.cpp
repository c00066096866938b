#include "pushcgi/stream_slots.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pushcgi {
namespace {

using Kind = StreamSlots::Kind;

// Replies waiting for their value (pages, /snapshot) are not streams: at the stream limit
// they are still taken (they used to share the stream limit as their own, so a page was
// refused once as many replies waited as streams were allowed).
TEST(StreamSlots, RepliesAreNotBoundByTheStreamLimit) {
  StreamSlots slots(2, 1);
  std::vector<StreamSlots::Slot> taken;
  taken.push_back(slots.take(Kind::pumped));
  taken.push_back(slots.take(Kind::pumped));
  for (const auto& slot : taken) EXPECT_TRUE(slot);
  for (int i = 0; i < 3; ++i) {
    taken.push_back(slots.take(Kind::reply));
    EXPECT_TRUE(taken.back()) << "reply " << i + 1;
  }
  EXPECT_EQ(slots.open(), 2u);
  EXPECT_EQ(slots.replies(), 3u);
  EXPECT_FALSE(slots.take(Kind::pumped));
  EXPECT_EQ(slots.refusal(Kind::pumped), "too many viewers (2 streams open)");
  taken.clear();
  EXPECT_EQ(slots.open(), 0u);
  EXPECT_EQ(slots.replies(), 0u);
}

// They have a limit of their own.
TEST(StreamSlots, RepliesHaveTheirOwnLimit) {
  StreamSlots slots(2, 1, 3);
  std::vector<StreamSlots::Slot> taken;
  taken.push_back(slots.take(Kind::pumped));
  taken.push_back(slots.take(Kind::pumped));
  for (int i = 0; i < 3; ++i) {
    taken.push_back(slots.take(Kind::reply));
    EXPECT_TRUE(taken.back()) << "reply " << i + 1;
  }
  EXPECT_FALSE(slots.take(Kind::reply));
  EXPECT_EQ(slots.refusal(Kind::reply), "too many requests waiting (3)");
  EXPECT_FALSE(slots.take(Kind::pumped));
  EXPECT_EQ(slots.refusal(Kind::pumped), "too many viewers (2 streams open)");
  EXPECT_EQ(slots.open(), 2u);
  EXPECT_EQ(slots.replies(), 3u);

  taken.back().release();  // a reply answered: the next one waits
  EXPECT_EQ(slots.replies(), 2u);
  EXPECT_TRUE(slots.take(Kind::reply));
  EXPECT_EQ(slots.open(), 2u);
}

}  // namespace
}  // namespace pushcgi
