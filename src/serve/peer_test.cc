#include "serve/peer.h"

#include <gtest/gtest.h>

namespace g4::serve {
namespace {

TEST(PeerTest, ReadsTheStateOfTheMatchingConnection) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
      "   1: 0100007F:1F90 0100007F:D431 08 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
      "   2: 0100007F:1F90 0100007F:D432 01 00000000:00000000 00:00000000 00000000     0        0 3 1\n";
  EXPECT_TRUE(proc_net_tcp_shows_close_wait(text, 0x1F90, 0xD431));   // CLOSE_WAIT
  EXPECT_FALSE(proc_net_tcp_shows_close_wait(text, 0x1F90, 0xD432));  // ESTABLISHED
  EXPECT_FALSE(proc_net_tcp_shows_close_wait(text, 0x1F90, 0xD433));  // unknown
  EXPECT_FALSE(proc_net_tcp_shows_close_wait("", 1, 2));
}

TEST(PeerTest, UnknownConnectionIsNotClosed) { EXPECT_FALSE(peer_closed(1, 1)); }

}  // namespace
}  // namespace g4::serve
