// The batching engine on the small random model: sequences generated together, with prefill chunks
// and decode steps sharing forward passes, give exactly the tokens each gives alone; requests beyond
// the queue are refused; cancelled ones end; a later request reuses a slot's cached prefix.
#include "serve/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "runtime/generate.h"
#include "testing/random_model.h"

namespace g4 {
namespace {

using testing::RandomModel;

struct Outcome {
  std::vector<int32_t> ids;
  std::string reason;
  GenStats stats;
  Status status;
};

// Submits a request whose results land in `out`; `done` is fulfilled at the end.
std::unique_ptr<GenRequest> make_request(std::vector<int32_t> prompt, int max_tokens, Outcome* out,
                                         std::promise<void>* done) {
  auto r = std::make_unique<GenRequest>();
  r->prompt = std::move(prompt);
  r->max_tokens = max_tokens;
  r->sampling.temperature = 0;
  r->on_token = [out](const TokenEvent& ev) {
    out->ids.push_back(ev.id);
    return true;
  };
  r->on_done = [out, done](const Status& s, const std::string& reason, const GenStats& st) {
    out->status = s;
    out->reason = reason;
    out->stats = st;
    done->set_value();
  };
  return r;
}

std::vector<int32_t> prompt_of(int n, int salt) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) p[size_t(i)] = int32_t(1000 + (i * 37 + salt * 101) % 5000);
  return p;
}

// What one sequence generates alone, greedy, through the plain generate() path.
std::vector<int32_t> alone(Gemma4Model& m, const std::vector<int32_t>& prompt, int n) {
  auto cache = m.new_cache(512, 64);
  EXPECT_TRUE(cache.ok());
  GenerateOptions o;
  o.max_new_tokens = n;
  o.chunk = 64;
  o.sampling.temperature = 0;
  auto r = generate(m, **cache, prompt, o, [](int32_t) { return true; });
  EXPECT_TRUE(r.ok());
  return r.ok() ? r.value() : std::vector<int32_t>{};
}

TEST(Engine, BatchedSequencesMatchEachAlone) {
  RandomModel rm;
  const std::vector<int> lengths = {5, 23, 40, 9, 17, 31};
  std::vector<std::vector<int32_t>> want;
  for (size_t i = 0; i < lengths.size(); ++i) want.push_back(alone(*rm.model, prompt_of(lengths[i], int(i)), 12));

  EngineOptions o;
  o.max_seqs = 4;  // six requests: two wait, then join the running batch
  o.context = 256;
  o.max_batch_tokens = 10;  // prefill chunks of a few tokens share steps with decoding sequences
  auto e = Engine::create(*rm.model, o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  std::vector<Outcome> out(lengths.size());
  std::vector<std::promise<void>> done(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i)
    ASSERT_TRUE((*e)->submit(make_request(prompt_of(lengths[i], int(i)), 12, &out[i], &done[i])).ok());
  for (auto& d : done) d.get_future().wait();
  for (size_t i = 0; i < lengths.size(); ++i) {
    ASSERT_TRUE(out[i].status.ok()) << out[i].status.error().message;
    EXPECT_EQ(out[i].ids, want[i]) << "request " << i;
    EXPECT_EQ(out[i].reason, "length");
    EXPECT_EQ(out[i].stats.prompt_tokens, lengths[i]);
    EXPECT_EQ(out[i].stats.completion_tokens, 12);
  }
  const EngineMetrics m = (*e)->metrics();
  EXPECT_GT(m.max_batch_seqs_seen, 1) << "sequences should have shared forward passes";
  EXPECT_EQ(m.requests_done, lengths.size());
  EXPECT_EQ(m.running, 0);
}

TEST(Engine, StopTokensEndAndAreReported) {
  RandomModel rm;
  const auto prompt = prompt_of(12, 3);
  const auto ref = alone(*rm.model, prompt, 6);
  ASSERT_EQ(ref.size(), 6u);
  auto e = Engine::create(*rm.model, EngineOptions{});
  ASSERT_TRUE(e.ok());
  Outcome out;
  std::promise<void> done;
  auto r = make_request(prompt, 50, &out, &done);
  r->stop_ids = {ref[3]};
  ASSERT_TRUE((*e)->submit(std::move(r)).ok());
  done.get_future().wait();
  EXPECT_EQ(out.reason, "stop");
  // The first occurrence of the stop id ends it, and is reported.
  const auto first = std::find(ref.begin(), ref.end(), ref[3]) - ref.begin();
  EXPECT_EQ(out.ids, std::vector<int32_t>(ref.begin(), ref.begin() + first + 1));
}

TEST(Engine, RefusesWhatDoesNotFitAndWhenTheQueueIsFull) {
  RandomModel rm;
  EngineOptions o;
  o.max_seqs = 1;
  o.max_queue = 1;
  o.context = 64;
  auto e = Engine::create(*rm.model, o);
  ASSERT_TRUE(e.ok());
  Engine::Refusal why;
  Outcome dummy;
  std::promise<void> p0;
  EXPECT_FALSE((*e)->submit(make_request(prompt_of(64, 0), 4, &dummy, &p0), &why).ok());
  EXPECT_EQ(why, Engine::Refusal::kInvalid);
  EXPECT_FALSE((*e)->submit(make_request({}, 4, &dummy, &p0), &why).ok());
  EXPECT_FALSE((*e)->submit(make_request({300000}, 4, &dummy, &p0), &why).ok());

  // One running (held by a token callback that waits), one queued, the third refused.
  std::promise<void> release;
  auto gate = release.get_future().share();
  Outcome a, b;
  std::promise<void> da, db;
  auto ra = make_request(prompt_of(8, 1), 3, &a, &da);
  ra->on_token = [&a, gate](const TokenEvent& ev) {
    gate.wait();
    a.ids.push_back(ev.id);
    return true;
  };
  ASSERT_TRUE((*e)->submit(std::move(ra)).ok());
  // Wait until it runs, so the queue is empty again.
  for (int i = 0; i < 500 && (*e)->metrics().running == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE((*e)->submit(make_request(prompt_of(8, 2), 3, &b, &db), &why).ok());
  Outcome c;
  std::promise<void> dc;
  Status s = (*e)->submit(make_request(prompt_of(8, 3), 3, &c, &dc), &why);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(why, Engine::Refusal::kBusy);
  EXPECT_NE(s.error().message.find("busy"), std::string::npos) << s.error().message;
  release.set_value();
  da.get_future().wait();
  db.get_future().wait();
  EXPECT_EQ(a.ids.size(), 3u);
  EXPECT_EQ(b.ids.size(), 3u);
  EXPECT_EQ((*e)->metrics().requests_refused, 1u);
}

TEST(Engine, CancelledRequestsEndWithinAStep) {
  RandomModel rm;
  auto e = Engine::create(*rm.model, EngineOptions{});
  ASSERT_TRUE(e.ok());
  Outcome out;
  std::promise<void> done;
  auto r = make_request(prompt_of(10, 4), 1000, &out, &done);
  auto flag = r->cancelled;
  r->on_token = [&out, flag](const TokenEvent& ev) {
    out.ids.push_back(ev.id);
    if (out.ids.size() == 5) flag->store(true);  // the client goes away after 5 tokens
    return true;
  };
  ASSERT_TRUE((*e)->submit(std::move(r)).ok());
  done.get_future().wait();
  EXPECT_EQ(out.reason, "cancelled");
  EXPECT_LE(out.ids.size(), 6u);
  EXPECT_EQ((*e)->metrics().running, 0);
}

TEST(Engine, LaterRequestsReuseACachedPrefixAndMatchAFreshRun) {
  RandomModel rm;
  EngineOptions o;
  o.max_seqs = 2;
  o.context = 256;
  o.max_batch_tokens = 16;
  auto e = Engine::create(*rm.model, o);
  ASSERT_TRUE(e.ok());
  auto first = prompt_of(40, 5);
  Outcome a;
  std::promise<void> da;
  auto ra = make_request(first, 30, &a, &da);  // a long reply: the rings cannot roll back over it
  ra->snapshot_at = 40 - 3;                    // ... but a snapshot at the "history" end can be restored
  ASSERT_TRUE((*e)->submit(std::move(ra)).ok());
  da.get_future().wait();
  // The next "turn": the first 37 tokens again, then new ones.
  auto second = std::vector<int32_t>(first.begin(), first.begin() + 37);
  for (int i = 0; i < 9; ++i) second.push_back(int32_t(7000 + i));
  Outcome b;
  std::promise<void> db;
  ASSERT_TRUE((*e)->submit(make_request(second, 8, &b, &db)).ok());
  db.get_future().wait();
  EXPECT_EQ(b.stats.cached_tokens, 37);
  EXPECT_EQ(b.ids, alone(*rm.model, second, 8));
}

TEST(Engine, DrainFinishesRunningRequestsAndRefusesNewOnes) {
  RandomModel rm;
  auto e = Engine::create(*rm.model, EngineOptions{});
  ASSERT_TRUE(e.ok());
  Outcome a;
  std::promise<void> da;
  ASSERT_TRUE((*e)->submit(make_request(prompt_of(10, 6), 20, &a, &da)).ok());
  (*e)->drain();
  EXPECT_EQ(a.ids.size(), 20u);
  Outcome b;
  std::promise<void> db;
  Engine::Refusal why;
  EXPECT_FALSE((*e)->submit(make_request(prompt_of(10, 7), 5, &b, &db), &why).ok());
  EXPECT_EQ(why, Engine::Refusal::kStopping);
}

}  // namespace
}  // namespace g4

namespace g4 {
namespace {

// A forced start: whatever the model prefers, the output begins with one of the given sequences
// (chosen by the model where they branch), then runs free; the tokens after it are the model's own.
TEST(Engine, ConstraintForcesOneOfThePrefixes) {
  RandomModel rm;
  EngineOptions o;
  o.max_seqs = 2;
  o.context = 128;
  auto e = Engine::create(*rm.model, o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  const auto prompt = prompt_of(9, 3);
  const auto free_run = alone(*rm.model, prompt, 6);
  // Two prefixes that share a first token and differ after it, neither what the model would say.
  const int32_t a = free_run[0] + 1, b = free_run[0] + 2, c = free_run[0] + 3;
  Outcome out;
  std::promise<void> done;
  auto r = make_request(prompt, 6, &out, &done);
  r->constraint.prefixes = {{a, b}, {a, c, b}};
  ASSERT_TRUE((*e)->submit(std::move(r)).ok());
  done.get_future().wait();
  ASSERT_TRUE(out.status.ok());
  ASSERT_EQ(out.ids.size(), 6u);
  EXPECT_EQ(out.ids[0], a);
  EXPECT_TRUE(out.ids[1] == b || (out.ids[1] == c && out.ids[2] == b)) << out.ids[1];
  // After the prefix the model runs free: the same as a plain run on prompt + prefix.
  const size_t n = out.ids[1] == b ? 2 : 3;
  std::vector<int32_t> p2 = prompt;
  p2.insert(p2.end(), out.ids.begin(), out.ids.begin() + ptrdiff_t(n));
  const auto rest = alone(*rm.model, p2, int(6 - n));
  EXPECT_EQ(std::vector<int32_t>(out.ids.begin() + ptrdiff_t(n), out.ids.end()), rest);
}

// A thinking budget: once the block has that many tokens, its closing token is forced.
TEST(Engine, BlockBudgetForcesTheClose) {
  RandomModel rm;
  EngineOptions o;
  o.max_seqs = 1;
  o.context = 128;
  auto e = Engine::create(*rm.model, o);
  ASSERT_TRUE(e.ok()) << e.error().message;
  const auto prompt = prompt_of(7, 5);
  const auto free_run = alone(*rm.model, prompt, 1);
  Outcome out;
  std::promise<void> done;
  auto r = make_request(prompt, 8, &out, &done);
  r->constraint.block_open = free_run[0];  // the model's own first token opens the block
  r->constraint.block_close = 4242;
  r->constraint.block_budget = 3;
  ASSERT_TRUE((*e)->submit(std::move(r)).ok());
  done.get_future().wait();
  ASSERT_EQ(out.ids.size(), 8u);
  EXPECT_EQ(out.ids[0], free_run[0]);
  EXPECT_EQ(out.ids[4], 4242);
}

}  // namespace
}  // namespace g4
