// Loading a Tokenizer from an HF tokenizer.json. The file is read by a small scanner for the two
// big arrays (vocab and merges) and by nlohmann/json for everything else, so that loading takes
// tens of milliseconds.

#include "text/tokenizer.h"

#include <algorithm>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "text/json_scanner.h"
#include "text/tokenizer_impl.h"

namespace g4 {

using tokenizer_detail::AddedToken;
using tokenizer_detail::JsonScanner;
using tokenizer_detail::NormOp;
using tokenizer_detail::Replace;
using tokenizer_detail::SplitBehavior;
using tokenizer_detail::SplitOp;

namespace {

using json = nlohmann::json;

// Strings stored back to back, for the vocab and merges while the file is being read.
struct StringArena {
  std::string bytes;
  std::vector<uint32_t> ends;
  void add(std::string_view s) {
    bytes.append(s);
    ends.push_back(uint32_t(bytes.size()));
  }
  size_t size() const { return ends.size(); }
  std::string_view get(size_t i) const {
    size_t b = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(b, ends[i] - b);
  }
};

std::string str_or(const json& j, const char* key, const std::string& def) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : def;
}
bool bool_or(const json& j, const char* key, bool def) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : def;
}
bool is_null_or_missing(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null();
}

Status parse_normalizer(const json& j, const std::string& name, std::vector<NormOp>* ops) {
  if (j.is_null()) return Status::Ok();
  std::string type = str_or(j, "type", "");
  if (type == "Sequence") {
    auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) return make_error("%s: normalizer Sequence without a list", name.c_str());
    for (const json& sub : *it) G4_TRY(parse_normalizer(sub, name, ops));
    return Status::Ok();
  }
  if (type == "Replace") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string())
      return make_error("%s: only literal-string Replace normalizers are supported", name.c_str());
    std::string from = (*pat)["String"].get<std::string>();
    if (from.empty()) return make_error("%s: Replace normalizer with an empty pattern", name.c_str());
    ops->push_back({false, from, str_or(j, "content", "")});
    return Status::Ok();
  }
  if (type == "Prepend") {
    ops->push_back({true, "", str_or(j, "prepend", "")});
    return Status::Ok();
  }
  return make_error("%s: unsupported normalizer '%s'", name.c_str(), type.c_str());
}

Status parse_pre_tokenizer(const json& j, const std::string& name, std::vector<SplitOp>* ops) {
  if (j.is_null()) return Status::Ok();
  std::string type = str_or(j, "type", "");
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array())
      return make_error("%s: pre_tokenizer Sequence without a list", name.c_str());
    for (const json& sub : *it) G4_TRY(parse_pre_tokenizer(sub, name, ops));
    return Status::Ok();
  }
  if (type == "Split") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string())
      return make_error("%s: only literal-string Split pre-tokenizers are supported", name.c_str());
    SplitOp op;
    op.pattern = (*pat)["String"].get<std::string>();
    op.invert = bool_or(j, "invert", false);
    std::string b = str_or(j, "behavior", "");
    if (b == "Removed") op.behavior = SplitBehavior::kRemoved;
    else if (b == "Isolated") op.behavior = SplitBehavior::kIsolated;
    else if (b == "MergedWithPrevious") op.behavior = SplitBehavior::kMergedWithPrevious;
    else if (b == "MergedWithNext") op.behavior = SplitBehavior::kMergedWithNext;
    else if (b == "Contiguous") op.behavior = SplitBehavior::kContiguous;
    else return make_error("%s: unknown Split behavior '%s'", name.c_str(), b.c_str());
    if (op.pattern.empty()) return Status::Ok();  // HF: an empty pattern never matches
    ops->push_back(std::move(op));
    return Status::Ok();
  }
  return make_error("%s: unsupported pre_tokenizer '%s'", name.c_str(), type.c_str());
}

Status parse_decoder(const json& j, const std::string& name, std::vector<Replace>* reps, bool* byte_fallback) {
  if (j.is_null()) return make_error("%s: the tokenizer has no decoder", name.c_str());
  std::string type = str_or(j, "type", "");
  if (type == "Sequence") {
    auto it = j.find("decoders");
    if (it == j.end() || !it->is_array()) return make_error("%s: decoder Sequence without a list", name.c_str());
    for (const json& sub : *it) G4_TRY(parse_decoder(sub, name, reps, byte_fallback));
    return Status::Ok();
  }
  if (type == "Replace") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string())
      return make_error("%s: only literal-string Replace decoders are supported", name.c_str());
    std::string from = (*pat)["String"].get<std::string>();
    if (!from.empty()) reps->push_back({from, str_or(j, "content", "")});
    return Status::Ok();
  }
  if (type == "ByteFallback") {
    *byte_fallback = true;
    return Status::Ok();
  }
  if (type == "Fuse") return Status::Ok();
  return make_error("%s: unsupported decoder '%s'", name.c_str(), type.c_str());
}

Result<json> parse_span(std::string_view text, size_t b, size_t e, const std::string& name, const char* what) {
  json j = json::parse(text.substr(b, e - b), nullptr, false);
  if (j.is_discarded()) return make_error("%s: bad JSON in '%s'", name.c_str(), what);
  return j;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json(const std::string& path) {
  G4_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::open(path));
  return from_hf_json_text(
      std::string_view(reinterpret_cast<const char*>(file->data()), file->size()), path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json_text(std::string_view text, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  const char* nm = name.c_str();
  JsonScanner sc(text);
  json config = json::object(), model_config = json::object();
  StringArena vocab_strings;
  std::vector<int32_t> vocab_ids;
  StringArena merge_strings;  // 2 per merge
  std::vector<AddedToken> added;
  bool have_vocab = false, have_merges = false;
  std::string key, s1, s2;
  std::string_view v1, v2;

  // The vocabulary is built as soon as it has been read, so that merges after it (as HF writes
  // them) are resolved while being read, a few hundred at a time.
  bool vocab_built = false;
  size_t merges_done = 0;
  auto build_vocab = [&]() -> Status {
    int32_t max_id = -1;
    for (int32_t id : vocab_ids) max_id = std::max(max_id, id);
    std::vector<std::string> pieces(size_t(max_id + 1));
    std::vector<uint8_t> in_model(pieces.size(), 0);
    for (size_t i = 0; i < vocab_ids.size(); ++i) {
      size_t id = size_t(vocab_ids[i]);
      if (in_model[id]) return make_error("%s: id %zu appears twice in the vocabulary", nm, id);
      in_model[id] = 1;
      pieces[id] = vocab_strings.get(i);
    }
    vocab_strings = StringArena();
    vocab_ids = {};
    vocab_built = true;
    return impl->set_pieces(std::move(pieces), std::move(in_model));
  };
  auto flush_merges = [&]() -> Status {
    size_t n = merge_strings.size() / 2;
    G4_TRY(impl->add_merges(
        merges_done, n,
        [&](size_t i, std::string_view* a, std::string_view* b) {
          *a = merge_strings.get(2 * i);
          *b = merge_strings.get(2 * i + 1);
        },
        nullptr));
    merges_done += n;
    merge_strings.bytes.clear();
    merge_strings.ends.clear();
    return Status::Ok();
  };

  auto bad = [&](const char* what) {
    return make_error("%s: malformed tokenizer JSON (%s, near byte %zu)", nm, what, sc.offset());
  };
  if (!sc.eat('{')) return bad("expected an object");
  if (!sc.eat('}')) {
    while (true) {
      if (!sc.string(&key) || !sc.eat(':')) return bad("expected a key");
      if (key == "model") {
        if (!sc.eat('{')) return bad("model is not an object");
        if (!sc.eat('}')) {
          std::string mkey;
          while (true) {
            if (!sc.string(&mkey) || !sc.eat(':')) return bad("expected a key in model");
            if (mkey == "vocab") {
              have_vocab = true;
              if (!sc.eat('{')) return bad("vocab is not an object");
              if (!sc.eat('}')) {
                while (true) {
                  int64_t id;
                  if (!sc.string_view(&v1, &s1) || !sc.eat(':') || !sc.integer(&id)) return bad("vocab entry");
                  if (id < 0 || id > (1 << 30)) return bad("vocab id out of range");
                  vocab_strings.add(v1);
                  vocab_ids.push_back(int32_t(id));
                  if (sc.eat(',')) continue;
                  if (sc.eat('}')) break;
                  return bad("vocab");
                }
              }
              G4_TRY(build_vocab());
            } else if (mkey == "merges") {
              have_merges = true;
              if (!sc.eat('[')) return bad("merges is not an array");
              impl->pending_merges.reserve((text.size() - sc.offset()) / 20);  // a guess: ~20 bytes each
              if (!sc.eat(']')) {
                while (true) {
                  if (vocab_built && merge_strings.size() >= 512) G4_TRY(flush_merges());
                  if (sc.peek('"')) {  // legacy "a b"
                    if (!sc.string(&s1)) return bad("merge entry");
                    size_t sp = s1.find(' ');
                    if (sp == std::string::npos || s1.find(' ', sp + 1) != std::string::npos)
                      return make_error("%s: merge '%s' is not two pieces separated by a space", nm, s1.c_str());
                    merge_strings.add(std::string_view(s1).substr(0, sp));
                    merge_strings.add(std::string_view(s1).substr(sp + 1));
                  } else {
                    if (!sc.eat('[') || !sc.string_view(&v1, &s1)) return bad("merge entry");
                    merge_strings.add(v1);
                    if (!sc.eat(',') || !sc.string_view(&v2, &s2) || !sc.eat(']')) return bad("merge entry");
                    merge_strings.add(v2);
                  }
                  if (sc.eat(',')) continue;
                  if (sc.eat(']')) break;
                  return bad("merges");
                }
              }
              if (vocab_built) G4_TRY(flush_merges());
            } else {
              sc.ws();
              size_t b = sc.offset();
              if (!sc.skip()) return bad("model value");
              G4_ASSIGN_OR_RETURN(model_config[mkey], parse_span(text, b, sc.offset(), name, mkey.c_str()));
            }
            if (sc.eat(',')) continue;
            if (sc.eat('}')) break;
            return bad("model");
          }
        }
      } else if (key == "added_tokens" && sc.peek('[')) {
        sc.eat('[');
        if (!sc.eat(']')) {
          std::string tkey;
          while (true) {
            AddedToken a;
            bool have_id = false, have_content = false, have_normalized = false, single_word = false;
            if (!sc.eat('{')) return bad("added token is not an object");
            if (!sc.eat('}')) {
              while (true) {
                if (!sc.string(&tkey) || !sc.eat(':')) return bad("added token key");
                bool ok = true;
                if (tkey == "id") {
                  int64_t id;
                  ok = sc.integer(&id) && id >= 0 && id <= (1 << 30);
                  a.id = int32_t(id);
                  have_id = true;
                } else if (tkey == "content") {
                  ok = sc.string(&a.content);
                  have_content = true;
                } else if (tkey == "special") {
                  ok = sc.boolean(&a.special);
                } else if (tkey == "normalized") {
                  ok = sc.boolean(&a.normalized);
                  have_normalized = true;
                } else if (tkey == "lstrip") {
                  ok = sc.boolean(&a.lstrip);
                } else if (tkey == "rstrip") {
                  ok = sc.boolean(&a.rstrip);
                } else if (tkey == "single_word") {
                  ok = sc.boolean(&single_word);
                } else {
                  ok = sc.skip();
                }
                if (!ok) return bad("added token field");
                if (sc.eat(',')) continue;
                if (sc.eat('}')) break;
                return bad("added token");
              }
            }
            if (!have_id || !have_content) return make_error("%s: an added token lacks id or content", nm);
            if (!have_normalized) a.normalized = !a.special;  // HF's default
            if (single_word)
              return make_error("%s: added token '%s' uses single_word, which is not supported", nm,
                                a.content.c_str());
            added.push_back(std::move(a));
            if (sc.eat(',')) continue;
            if (sc.eat(']')) break;
            return bad("added_tokens");
          }
        }
      } else {
        sc.ws();
        size_t b = sc.offset();
        if (!sc.skip()) return bad("value");
        G4_ASSIGN_OR_RETURN(config[key], parse_span(text, b, sc.offset(), name, key.c_str()));
      }
      if (sc.eat(',')) continue;
      if (sc.eat('}')) break;
      return bad("expected ',' or '}'");
    }
  }
  if (!sc.at_end()) return bad("trailing data");

  // The model.
  if (str_or(model_config, "type", "BPE") != "BPE")
    return make_error("%s: model type '%s' is not BPE", nm, str_or(model_config, "type", "").c_str());
  if (!have_vocab || !have_merges) return make_error("%s: the BPE model lacks vocab or merges", nm);
  if (!is_null_or_missing(model_config, "dropout") &&
      !(model_config["dropout"].is_number() && model_config["dropout"].get<double>() == 0.0))
    return make_error("%s: BPE dropout is not supported", nm);
  if (!str_or(model_config, "continuing_subword_prefix", "").empty() ||
      !str_or(model_config, "end_of_word_suffix", "").empty())
    return make_error("%s: continuing_subword_prefix / end_of_word_suffix are not supported", nm);
  impl->fuse_unk = bool_or(model_config, "fuse_unk", false);
  impl->byte_fallback = bool_or(model_config, "byte_fallback", false);
  impl->ignore_merges = bool_or(model_config, "ignore_merges", false);

  if (!vocab_built) G4_TRY(build_vocab());
  G4_TRY(flush_merges());
  impl->commit_merges();

  std::string unk = str_or(model_config, "unk_token", "");
  if (!unk.empty()) {
    impl->unk_id = impl->vocab.find(impl->pieces, unk);
    if (impl->unk_id < 0) return make_error("%s: unk_token '%s' is not in the vocabulary", nm, unk.c_str());
  }

  // Added tokens.
  if (config.contains("added_tokens") && !config["added_tokens"].is_null())
    return make_error("%s: added_tokens is not a list", nm);
  for (AddedToken& a : added) G4_TRY(impl->add_token(std::move(a)));

  // Pipeline.
  if (config.contains("normalizer")) G4_TRY(parse_normalizer(config["normalizer"], name, &impl->normalizer));
  if (config.contains("pre_tokenizer"))
    G4_TRY(parse_pre_tokenizer(config["pre_tokenizer"], name, &impl->pre_tokenizer));
  impl->dec_byte_fallback = false;
  G4_TRY(parse_decoder(config.contains("decoder") ? config["decoder"] : json(), name, &impl->dec_replace,
                       &impl->dec_byte_fallback));

  impl->finish();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

}  // namespace g4
