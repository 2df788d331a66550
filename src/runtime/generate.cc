#include "runtime/generate.h"

#include <algorithm>

namespace g4 {

Result<std::vector<float>> prefill(Gemma4Model& model, SequenceCache& cache, const std::vector<int32_t>& tokens,
                                  int chunk) {
  if (tokens.empty()) return make_error("empty prompt");
  chunk = std::max(1, std::min(chunk, cache.max_chunk()));
  std::vector<float> logits;
  for (size_t i = 0; i < tokens.size(); i += size_t(chunk)) {
    size_t n = std::min(tokens.size() - i, size_t(chunk));
    logits.clear();
    // Only the last chunk's last token needs logits.
    const bool last = i + n == tokens.size();
    Gemma4Model::Run run{&cache, std::span<const int32_t>(tokens.data() + i, n), false, !last};
    G4_TRY(model.forward(std::span<const Gemma4Model::Run>(&run, 1), logits));
  }
  return logits;
}

Result<std::vector<int32_t>> generate(Gemma4Model& model, SequenceCache& cache, const std::vector<int32_t>& prompt,
                                      const GenerateOptions& opt, const std::function<bool(int32_t)>& on_token) {
  if (int64_t(cache.n_past()) + int64_t(prompt.size()) > cache.max_context())
    return make_error("the prompt has %zu tokens but the context holds %d (%d already used)", prompt.size(),
                      cache.max_context(), cache.n_past());
  G4_ASSIGN_OR_RETURN(std::vector<float> logits, prefill(model, cache, prompt, opt.chunk));
  Sampler sampler(opt.sampling, model.config().suppress_ids);
  std::vector<int32_t> out;
  for (int i = 0; i < opt.max_new_tokens; ++i) {
    int32_t id = sampler.sample(logits);
    out.push_back(id);
    bool stop = std::find(opt.stop_ids.begin(), opt.stop_ids.end(), id) != opt.stop_ids.end();
    if (!on_token(id) || stop) break;
    if (i + 1 == opt.max_new_tokens || cache.n_past() >= cache.max_context()) break;
    logits.clear();
    Gemma4Model::Run run{&cache, std::span<const int32_t>(&id, 1), false};
    G4_TRY(model.forward(std::span<const Gemma4Model::Run>(&run, 1), logits));
  }
  return out;
}

}  // namespace g4
