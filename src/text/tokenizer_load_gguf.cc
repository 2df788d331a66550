// Loading a Tokenizer from GGUF metadata (llama.cpp's "gemma4" tokenizer model).

#include "text/tokenizer.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "io/gguf.h"
#include "text/tokenizer_impl.h"
#include "text/utf8.h"

namespace g4 {

using tokenizer_detail::AddedToken;
using tokenizer_detail::byte_piece_value;
using tokenizer_detail::utf8_len;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf) {
  auto impl = std::make_unique<Impl>();
  impl->name = "gguf tokenizer";

  auto get_str = [&](const char* k) -> const std::string* {
    const GgufValue* v = gguf.get(k);
    return v ? std::get_if<std::string>(&v->v) : nullptr;
  };
  auto get_id = [&](const char* k) -> int32_t {
    const GgufValue* v = gguf.get(k);
    const int64_t* x = v ? std::get_if<int64_t>(&v->v) : nullptr;
    return x && *x >= 0 && *x < (int64_t(1) << 30) ? int32_t(*x) : -1;
  };

  const std::string* model = get_str("tokenizer.ggml.model");
  if (!model) return make_error("gguf: tokenizer.ggml.model is missing or not a string");
  if (*model != "gemma4")
    return make_error("gguf: tokenizer.ggml.model is '%s'; only Gemma 4's 'gemma4' BPE is supported", model->c_str());
  const GgufValue* tv = gguf.get("tokenizer.ggml.tokens");
  const auto* tokens = tv ? std::get_if<std::vector<std::string>>(&tv->v) : nullptr;
  if (!tokens || tokens->empty()) return make_error("gguf: tokenizer.ggml.tokens is missing or not a string array");
  const GgufValue* mv = gguf.get("tokenizer.ggml.merges");
  const auto* merges = mv ? std::get_if<std::vector<std::string>>(&mv->v) : nullptr;
  if (!merges) return make_error("gguf: tokenizer.ggml.merges is missing or not a string array");
  const GgufValue* ty = gguf.get("tokenizer.ggml.token_type");
  const auto* types = ty ? std::get_if<std::vector<int64_t>>(&ty->v) : nullptr;
  if (types && types->size() != tokens->size())
    return make_error("gguf: tokenizer.ggml.token_type has %zu entries for %zu tokens", types->size(), tokens->size());
  if (tokens->size() > (size_t(1) << 30)) return make_error("gguf: too many tokens");

  std::vector<uint8_t> in_model(tokens->size(), 1);
  G4_TRY(impl->set_pieces(*tokens, std::move(in_model)));

  std::vector<uint8_t> produced(tokens->size(), 0);
  impl->pending_merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const std::string& m = (*merges)[i];
    if (m.size() < 3 || m.find(' ', 1) == std::string::npos || m.find(' ', 1) + 1 >= m.size())
      return make_error("gguf: merge %zu ('%s') is not two pieces separated by a space", i, m.c_str());
  }
  G4_TRY(impl->add_merges(
      0, merges->size(),
      [&](size_t i, std::string_view* a, std::string_view* b) {
        std::string_view m = (*merges)[i];
        size_t sp = m.find(' ', 1);  // as llama.cpp: a piece may start with a space
        *a = m.substr(0, sp);
        *b = m.substr(sp + 1);
      },
      &produced));
  impl->commit_merges();

  // The converter writes HF's special tokens as CONTROL and other added tokens as USER_DEFINED,
  // but HF's non-special added tokens inside the base vocabulary (e.g. "<table>", "<unused0>")
  // come out NORMAL. A piece longer than one character that no merge produces can only come from
  // added-token matching, so those are treated as added tokens too. So are Gemma's whitespace
  // runs ("\n\n", "\t\t\t", "▁▁": added tokens in HF, although merges also build them), since
  // matching a literal "▁▁" in the text differs from BPE over "▁▁▁".
  auto whitespace_run = [](std::string_view p) {
    if (p.find_first_not_of('\n') == std::string_view::npos) return true;
    if (p.find_first_not_of('\t') == std::string_view::npos) return true;
    if (p.size() < 6 || p.size() % 3 != 0) return false;
    for (size_t i = 0; i < p.size(); i += 3)
      if (p.substr(i, 3) != "\xE2\x96\x81") return false;
    return true;
  };
  for (size_t id = 0; id < tokens->size(); ++id) {
    int64_t t = types ? (*types)[id] : 1;
    const std::string& p = impl->pieces[id];
    if (p.empty()) continue;
    AddedToken a;
    a.id = int32_t(id);
    a.content = p;
    if (t == 3 || t == 2) {  // CONTROL, UNKNOWN
      a.special = true;
    } else if (t == 4) {  // USER_DEFINED
    } else if (t == 6 || byte_piece_value(p) >= 0) {  // BYTE
      continue;
    } else if ((produced[id] || utf8_len(static_cast<unsigned char>(p[0])) >= p.size()) &&
               !whitespace_run(p)) {
      continue;  // an ordinary BPE piece
    }
    impl->added_by_content[a.content] = a.id;
    impl->added.push_back(std::move(a));
  }

  impl->unk_id = get_id("tokenizer.ggml.unknown_token_id");
  if (impl->unk_id >= int32_t(tokens->size())) impl->unk_id = -1;
  impl->fuse_unk = true;
  impl->byte_fallback = true;
  impl->normalizer.push_back({false, " ", "\xE2\x96\x81"});
  impl->dec_replace.push_back({"\xE2\x96\x81", " "});
  impl->dec_byte_fallback = true;
  impl->bos = get_id("tokenizer.ggml.bos_token_id");
  impl->eos = get_id("tokenizer.ggml.eos_token_id");
  impl->pad = get_id("tokenizer.ggml.padding_token_id");
  for (int32_t* id : {&impl->bos, &impl->eos, &impl->pad})
    if (*id >= int32_t(tokens->size())) *id = -1;
  impl->finish();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

}  // namespace g4
