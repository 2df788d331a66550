// Stop sequences over streamed text: text is released as soon as it cannot start a stop sequence,
// a stop sequence split across pieces is still found, and nothing after it comes out.
#include "serve/stop_matcher.h"

#include <gtest/gtest.h>

namespace g4::serve {
namespace {

std::string run(std::vector<std::string> stops, const std::vector<std::string>& pieces, bool* hit_any) {
  StopMatcher m(std::move(stops));
  std::string out;
  *hit_any = false;
  for (const auto& p : pieces) {
    bool hit = false;
    out += m.push(p, &hit);
    *hit_any |= hit;
  }
  return out + m.flush();
}

TEST(StopMatcher, CutsAtTheFirstStopEvenAcrossPieces) {
  bool hit;
  EXPECT_EQ(run({"END"}, {"hello E", "N", "D and more"}, &hit), "hello ");
  EXPECT_TRUE(hit);
  EXPECT_EQ(run({"\n\n", "###"}, {"a\n", "b##", "#c"}, &hit), "a\nb");
  EXPECT_TRUE(hit);
  EXPECT_EQ(run({"xyz"}, {"xy", "xyz"}, &hit), "xy");  // a false start, then the real one
  EXPECT_TRUE(hit);
}

TEST(StopMatcher, HoldsBackOnlyWhatCouldStartAStop) {
  StopMatcher m({"STOP"});
  bool hit = false;
  EXPECT_EQ(m.push("abc S", &hit), "abc ");
  EXPECT_EQ(m.push("T", &hit), "");
  EXPECT_EQ(m.push("x", &hit), "STx");  // not a stop after all: released
  EXPECT_FALSE(hit);
  EXPECT_EQ(m.push("ST", &hit), "");
  EXPECT_EQ(m.flush(), "ST");  // the end: what was held comes out
}

TEST(StopMatcher, NoStopsPassEverything) {
  bool hit;
  EXPECT_EQ(run({}, {"a", "b"}, &hit), "ab");
  EXPECT_FALSE(hit);
}

TEST(StopMatcher, NothingAfterTheStop) {
  StopMatcher m({"!"});
  bool hit = false;
  EXPECT_EQ(m.push("hi! there", &hit), "hi");
  EXPECT_TRUE(hit);
  EXPECT_EQ(m.push("more", &hit), "");
  EXPECT_EQ(m.flush(), "");
  EXPECT_TRUE(m.stopped());
}

}  // namespace
}  // namespace g4::serve

namespace g4::serve {
namespace {

TEST(StopMatcher, ReportsWhichStopMatched) {
  StopMatcher m({"zz", "b c"});
  bool hit = false;
  EXPECT_EQ(m.push("a b", &hit), "a ");
  EXPECT_TRUE(m.matched().empty());
  EXPECT_EQ(m.push(" c zz", &hit), "");
  EXPECT_TRUE(hit);
  EXPECT_EQ(m.matched(), "b c");  // the earliest in the text, not the first in the list
}

}  // namespace
}  // namespace g4::serve
