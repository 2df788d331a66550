// A minimal JSON scanner for the two large arrays of tokenizer.json (vocab and merges), which a
// full parse would make slow. The calls made once per vocab or merge entry are inline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace g4::tokenizer_detail {

// Minimal JSON scanner for the large arrays; other values are handed to nlohmann/json.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : b_(s.data()), p_(s.data()), e_(s.data() + s.size()) {}

  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ < e_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    ws();
    return p_ < e_ && *p_ == c;
  }
  bool at_end() {
    ws();
    return p_ >= e_;
  }
  size_t offset() const { return size_t(p_ - b_); }
  const char* pos() const { return p_; }

  // Reads a string: *out views the input when it has no escapes, else `scratch` holding it.
  bool string_view(std::string_view* out, std::string* scratch) {
    ws();
    if (p_ >= e_ || *p_ != '"') return false;
    const char* q = p_ + 1;
    while (q < e_ && *q != '"' && *q != '\\') ++q;
    if (q < e_ && *q == '"') {
      *out = std::string_view(p_ + 1, size_t(q - p_ - 1));
      p_ = q + 1;
      return true;
    }
    if (!string(scratch)) return false;
    *out = *scratch;
    return true;
  }

  // Reads a string into *out, unescaping it.
  bool string(std::string* out);

  bool integer(int64_t* v) {
    ws();
    bool neg = false;
    if (p_ < e_ && *p_ == '-') neg = true, ++p_;
    if (p_ >= e_ || *p_ < '0' || *p_ > '9') return false;
    int64_t x = 0;
    while (p_ < e_ && *p_ >= '0' && *p_ <= '9') {
      if (x > (int64_t(1) << 40)) return false;
      x = x * 10 + (*p_++ - '0');
    }
    if (p_ < e_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    *v = neg ? -x : x;
    return true;
  }

  bool boolean(bool* v);

  // Skips one value of any kind.
  bool skip(int depth = 0);

 private:
  bool hex4(uint32_t* v);
  const char* b_;
  const char* p_;
  const char* e_;
};

}  // namespace g4::tokenizer_detail
