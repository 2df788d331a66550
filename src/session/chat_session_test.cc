// ChatSession on a small random Gemma 4 with the real 262144-token vocabulary, built in memory: the
// template renders, the reply streams through the parser, and a later turn that reuses the cached
// prefix produces exactly what a fresh session computing everything again produces.
#include "session/chat_session.h"

#include <gtest/gtest.h>


#include "testing/random_model.h"

namespace g4 {
namespace {

using testing::RandomModel;
using testing::tokenizer;

using ojson = nlohmann::ordered_json;

ChatRequest request(ojson messages, bool thinking) {
  ChatRequest r;
  r.messages = std::move(messages);
  r.thinking = thinking;
  r.max_new_tokens = 40;
  r.sampling.temperature = 0;
  return r;
}

class ChatSessionTest : public ::testing::TestWithParam<bool> {};

TEST_P(ChatSessionTest, LaterTurnsReuseTheCacheAndMatchAFreshSession) {
  const bool thinking = GetParam();
  RandomModel rm;
  auto tmpl = model_chat_template(rm.model->files());  // no template in the model: the built-in one
  ASSERT_TRUE(tmpl.ok()) << tmpl.error().message;
  // Chunk 8 < window 16: the sliding rings cannot roll back a 40-token reply, so turn 2 exercises the
  // snapshot (thinking) or a rollback near the end of the reply.
  auto s = ChatSession::create(*rm.model, tokenizer(), *tmpl, 2048, 8);
  ASSERT_TRUE(s.ok()) << s.error().message;

  ojson msgs = ojson::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello"}}});
  std::string streamed;
  auto r1 = (*s)->respond(request(msgs, thinking), [&](const ResponseEvent& e) {
    if (e.kind != ResponseEvent::Kind::warning && e.kind != ResponseEvent::Kind::tool_call) streamed += e.text;
  });
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ(r1->cached_tokens, 0);
  EXPECT_GT(r1->completion_tokens, 0);
  EXPECT_EQ(streamed, r1->reasoning + r1->content);
  auto prompt1 = (*s)->render(request(msgs, thinking));
  ASSERT_TRUE(prompt1.ok());
  EXPECT_EQ(prompt1->rfind("<bos>", 0), 0u);  // exactly one BOS, from the template
  EXPECT_EQ(prompt1->find("<bos>", 1), std::string::npos);
  EXPECT_EQ(int(tokenizer().encode(*prompt1, true).size()), r1->prompt_tokens);

  msgs.push_back({{"role", "assistant"}, {"content", r1->content}});
  msgs.push_back({{"role", "user"}, {"content", "And again?"}});
  auto r2 = (*s)->respond(request(msgs, thinking), nullptr);
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_GT(r2->cached_tokens, r1->prompt_tokens / 2) << "turn 2 should reuse turn 1's prefix";

  auto fresh = ChatSession::create(*rm.model, tokenizer(), *tmpl, 2048, 8);
  ASSERT_TRUE(fresh.ok());
  auto r2_fresh = (*fresh)->respond(request(msgs, thinking), nullptr);
  ASSERT_TRUE(r2_fresh.ok());
  EXPECT_EQ(r2_fresh->cached_tokens, 0);
  EXPECT_EQ(r2->output_ids, r2_fresh->output_ids);
  EXPECT_EQ(r2->content, r2_fresh->content);

  // After a reset nothing is reused, and the result is the same again.
  (*s)->reset();
  auto r2_again = (*s)->respond(request(msgs, thinking), nullptr);
  ASSERT_TRUE(r2_again.ok());
  EXPECT_EQ(r2_again->cached_tokens, 0);
  EXPECT_EQ(r2_again->output_ids, r2_fresh->output_ids);
}

INSTANTIATE_TEST_SUITE_P(Thinking, ChatSessionTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "on" : "off"; });

// The reply does not depend on the prefill chunk size.
TEST(ChatSession, RepliesDoNotDependOnTheChunkSize) {
  RandomModel rm;
  auto tmpl = model_chat_template(rm.model->files());
  ASSERT_TRUE(tmpl.ok());
  ojson msgs = ojson::array({{{"role", "user"}, {"content", "Hello"}}});
  std::vector<std::vector<int32_t>> outs;
  for (int chunk : {1, 3, 8, 64}) {
    auto s = ChatSession::create(*rm.model, tokenizer(), *tmpl, 2048, chunk);
    ASSERT_TRUE(s.ok());
    auto r = (*s)->respond(request(msgs, false), nullptr);
    ASSERT_TRUE(r.ok()) << r.error().message;
    outs.push_back(r->output_ids);
  }
  for (size_t i = 1; i < outs.size(); ++i) EXPECT_EQ(outs[0], outs[i]);
}

// A cache that held another sequence, rolled back to 0 (always allowed, even after its sliding
// rings wrapped), computes exactly what a new cache computes.
TEST(ChatSession, ACacheRolledBackToZeroIsLikeNew) {
  RandomModel rm;
  auto used = rm.model->new_cache(2048, 8), fresh = rm.model->new_cache(2048, 8);
  ASSERT_TRUE(used.ok() && fresh.ok());
  std::vector<int32_t> a(60), b(30);
  for (size_t i = 0; i < a.size(); ++i) a[i] = int32_t(1000 + i * 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = int32_t(5000 + i * 13);
  auto feed = [&](SequenceCache* c, const std::vector<int32_t>& ids, size_t i) {
    std::vector<float> l;
    Gemma4Model::Run run{c, std::span<const int32_t>(ids.data() + i, std::min<size_t>(8, ids.size() - i)), true};
    EXPECT_TRUE(rm.model->forward(std::span<const Gemma4Model::Run>(&run, 1), l).ok());
    return l;
  };
  for (size_t i = 0; i < a.size(); i += 8) feed(used->get(), a, i);
  ASSERT_TRUE((*used)->rollback(0).ok());
  for (size_t i = 0; i < b.size(); i += 8) EXPECT_EQ(feed(used->get(), b, i), feed(fresh->get(), b, i)) << i;
}

TEST(ChatSession, ConversationsThatDoNotFitFailClearly) {
  RandomModel rm;
  auto tmpl = model_chat_template(rm.model->files());
  ASSERT_TRUE(tmpl.ok());
  auto s = ChatSession::create(*rm.model, tokenizer(), *tmpl, 32, 8);
  ASSERT_TRUE(s.ok());
  ojson msgs = ojson::array({{{"role", "user"}, {"content", std::string(400, 'x') + " long message"}}});
  auto r = (*s)->respond(request(msgs, false), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("context holds 32"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace g4
