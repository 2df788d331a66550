#include "serve/constraint.h"

#include <cmath>

#include <gtest/gtest.h>

namespace g4 {
namespace {

std::vector<int32_t> allowed(const ConstraintState& s) {
  std::vector<int32_t> ids;
  if (!s.allowed(&ids)) return {-1};  // free
  return ids;
}

TEST(ConstraintTest, EmptyConstraintNeverBinds) {
  OutputConstraint c;
  ConstraintState s(c);
  EXPECT_FALSE(s.active());
  EXPECT_EQ(allowed(s), std::vector<int32_t>{-1});
}

TEST(ConstraintTest, OnePrefixIsForcedThenFree) {
  OutputConstraint c;
  c.prefixes = {{5, 6, 7}};
  ConstraintState s(c);
  for (int32_t t : {5, 6, 7}) {
    EXPECT_EQ(allowed(s), std::vector<int32_t>{t});
    s.accept(t);
  }
  EXPECT_FALSE(s.active());
  EXPECT_EQ(allowed(s), std::vector<int32_t>{-1});
}

TEST(ConstraintTest, SeveralPrefixesBranchWhereTheyDiffer) {
  OutputConstraint c;
  c.prefixes = {{1, 2, 3}, {1, 4}, {9}};
  ConstraintState s(c);
  EXPECT_EQ(allowed(s), (std::vector<int32_t>{1, 9}));
  s.accept(1);
  EXPECT_EQ(allowed(s), (std::vector<int32_t>{2, 4}));
  s.accept(4);
  EXPECT_FALSE(s.active());
}

TEST(ConstraintTest, ThinkingBlockMayComeFirstAndIsFree) {
  OutputConstraint c;
  c.prefixes = {{5, 6}};
  c.block_open = 100;
  c.block_close = 101;
  ConstraintState s(c);
  EXPECT_EQ(allowed(s), (std::vector<int32_t>{5, 100}));
  s.accept(100);
  EXPECT_EQ(allowed(s), std::vector<int32_t>{-1});
  s.accept(42);
  s.accept(43);
  EXPECT_EQ(allowed(s), std::vector<int32_t>{-1});
  s.accept(101);
  EXPECT_EQ(allowed(s), std::vector<int32_t>{5});  // no second block
  s.accept(5);
  s.accept(6);
  EXPECT_FALSE(s.active());
}

TEST(ConstraintTest, BlockBudgetClosesTheBlock) {
  OutputConstraint c;
  c.block_open = 100;
  c.block_close = 101;
  c.block_budget = 2;
  ConstraintState s(c);
  EXPECT_EQ(allowed(s), std::vector<int32_t>{-1});  // no prefix: the start is free
  s.accept(100);
  s.accept(7);
  EXPECT_EQ(allowed(s), std::vector<int32_t>{-1});
  s.accept(8);
  EXPECT_EQ(allowed(s), std::vector<int32_t>{101});
  s.accept(101);
  EXPECT_FALSE(s.active());
}

TEST(ConstraintTest, BudgetWithoutBlockAtStartEnds) {
  OutputConstraint c;
  c.block_open = 100;
  c.block_close = 101;
  c.block_budget = 2;
  ConstraintState s(c);
  s.accept(7);  // answered without thinking
  EXPECT_FALSE(s.active());
}

TEST(ConstraintTest, MaskKeepsOnlyAllowedLogits) {
  std::vector<float> l = {1, 2, 3, 4};
  mask_logits(l, {1, 3});
  EXPECT_TRUE(std::isinf(l[0]) && l[0] < 0);
  EXPECT_EQ(l[1], 2);
  EXPECT_TRUE(std::isinf(l[2]) && l[2] < 0);
  EXPECT_EQ(l[3], 4);
}

}  // namespace
}  // namespace g4
