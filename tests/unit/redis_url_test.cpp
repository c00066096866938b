#include <gtest/gtest.h>

#include "redis/redis_connection.hpp"

namespace pushcgi::detail {
namespace {

TEST(RedisUrl, HostPortAndChannel) {
  const auto at = parse_redis_url("redis://10.0.0.5:6380/door");
  ASSERT_TRUE(at) << at.error();
  EXPECT_EQ(at->host, "10.0.0.5");
  EXPECT_EQ(at->port, 6380);
  EXPECT_EQ(at->channel, "door");
  EXPECT_EQ(at->user, "");
  EXPECT_EQ(at->password, "");
  EXPECT_EQ(at->describe(), "redis://10.0.0.5:6380/door");
  const auto plain = parse_redis_url("redis://redis.lan/cams/door");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->channel, "cams/door");
  const auto v6 = parse_redis_url("redis://[::1]:7000/c");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
}

TEST(RedisUrl, CredentialsAreDecodedAndNeverDescribed) {
  const auto acl = parse_redis_url("redis://web:p%40ss%3Aw0rd@127.0.0.1/cam");
  ASSERT_TRUE(acl) << acl.error();
  EXPECT_EQ(acl->user, "web");
  EXPECT_EQ(acl->password, "p@ss:w0rd");
  EXPECT_EQ(acl->describe().find("p@ss"), std::string::npos);
  EXPECT_EQ(acl->describe().find("web"), std::string::npos);
  for (const char* url : {"redis://:secret@h/c", "redis://secret@h/c"}) {
    const auto only = parse_redis_url(url);
    ASSERT_TRUE(only) << url;
    EXPECT_EQ(only->user, "") << url;  // Redis's default user
    EXPECT_EQ(only->password, "secret") << url;
  }
}

TEST(RedisUrl, AnAtSignAfterTheHostIsPartOfTheChannel) {
  const auto at = parse_redis_url("redis://h/a@b/c");
  ASSERT_TRUE(at) << at.error();
  EXPECT_EQ(at->host, "h");
  EXPECT_EQ(at->channel, "a@b/c");
  EXPECT_EQ(at->password, "");
  const auto channel = parse_redis_url("redis://127.0.0.1:6379/cam@home");
  ASSERT_TRUE(channel) << channel.error();
  EXPECT_EQ(channel->channel, "cam@home");
  const auto unix_channel = parse_redis_url("redis+unix:///r.sock?channel=a@b");
  ASSERT_TRUE(unix_channel) << unix_channel.error();
  EXPECT_EQ(unix_channel->channel, "a@b");
  const auto escaped = parse_redis_url("redis://u:p%2Fq%40r@h/c");
  ASSERT_TRUE(escaped) << escaped.error();
  EXPECT_EQ(escaped->password, "p/q@r");
}

TEST(RedisUrl, UnixSocket) {
  const auto at = parse_redis_url("redis+unix://:pw@/run/redis/redis.sock?channel=cam");
  ASSERT_TRUE(at) << at.error();
  EXPECT_EQ(at->socket_path, "/run/redis/redis.sock");
  EXPECT_EQ(at->channel, "cam");
  EXPECT_EQ(at->password, "pw");
  EXPECT_EQ(at->describe(), "redis+unix:/run/redis/redis.sock?channel=cam");
}

TEST(RedisUrl, RefusedWithoutQuotingThem) {
  for (const char* url :
       {"redis://:pw@h", "redis://:pw@h:0/c", "redis://:pw@h:65536/c", "redis://:pw@h:x/c",
        "redis://:pw@/c", "redis://:pw@h/", "redis://:pw@h/a b", "redis://:p%zz@h/c",
        "redis+unix://:pw@relative.sock?channel=c", "redis+unix://:pw@/a.sock", "rediss://:pw@h/c",
        "redis://pwuser:@h/c", "http://:pw@h/c"}) {
    const auto at = parse_redis_url(url);
    EXPECT_FALSE(at) << url;
    EXPECT_EQ(at.error().find("pw"), std::string::npos) << at.error();
    EXPECT_EQ(at.error().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace pushcgi::detail
