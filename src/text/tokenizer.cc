// Decoding, the Tokenizer's accessors and the streaming decoder. Building is in tokenizer_build.cc,
// encoding in tokenizer_encode.cc, loading in tokenizer_load_json.cc and tokenizer_load_gguf.cc.

#include "text/tokenizer.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/tokenizer_impl.h"
#include "text/utf8.h"

namespace g4 {

using tokenizer_detail::append_sanitized;
using tokenizer_detail::replace_all_into;
using tokenizer_detail::Replace;

void Tokenizer::Impl::decode_into(int32_t id, std::string* out) const {
  if (id < 0 || size_t(id) >= pieces.size()) return;
  if (dec_byte_fallback && byte_of[size_t(id)] >= 0) {
    out->push_back(char(byte_of[size_t(id)]));
    return;
  }
  const std::string& p = pieces[size_t(id)];
  if (dec_replace.empty()) {
    out->append(p);
  } else if (dec_replace.size() == 1) {
    replace_all_into(p, dec_replace[0].from, dec_replace[0].to, out);
  } else {
    std::string cur = p, next;
    for (const Replace& r : dec_replace) {
      next.clear();
      replace_all_into(cur, r.from, r.to, &next);
      cur.swap(next);
    }
    out->append(cur);
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (int32_t id : ids) impl_->decode_into(id, &out);
  return out;
}

const std::string& Tokenizer::piece(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || size_t(id) >= impl_->pieces.size()) return kEmpty;
  return impl_->pieces[size_t(id)];
}

int32_t Tokenizer::vocab_size() const { return int32_t(impl_->pieces.size()); }

int32_t Tokenizer::find(std::string_view piece) const {
  auto it = impl_->added_by_content.find(std::string(piece));
  if (it != impl_->added_by_content.end()) return it->second;
  return impl_->vocab.find(impl_->pieces, piece);
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->special.size() && impl_->special[size_t(id)];
}

int32_t Tokenizer::bos_id() const { return impl_->bos; }
int32_t Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::pad_id() const { return impl_->pad; }

// ------------------------------------------------------------------------------------------------

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.decode({id});
  std::string out;
  size_t used = append_sanitized(pending_, false, &out);
  pending_.erase(0, used);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  append_sanitized(pending_, true, &out);
  pending_.clear();
  return out;
}

}  // namespace g4
