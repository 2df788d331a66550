// The JSON scanner's slower paths: escaped strings, booleans and skipping values.

#include "text/json_scanner.h"

#include <cctype>
#include <cstring>

#include "text/utf8.h"

namespace g4::tokenizer_detail {

bool JsonScanner::string(std::string* out) {
  out->clear();
  if (!eat('"')) return false;
  while (true) {
    const char* q = p_;
    while (q < e_ && *q != '"' && *q != '\\') ++q;
    out->append(p_, size_t(q - p_));
    p_ = q;
    if (p_ >= e_) return false;
    if (*p_ == '"') {
      ++p_;
      return true;
    }
    ++p_;  // backslash
    if (p_ >= e_) return false;
    char c = *p_++;
    switch (c) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!hex4(&cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (e_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
          p_ += 2;
          if (!hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        append_utf8(cp, out);
        break;
      }
      default: return false;
    }
  }
}

bool JsonScanner::boolean(bool* v) {
  ws();
  if (e_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
    p_ += 4;
    *v = true;
    return true;
  }
  if (e_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
    p_ += 5;
    *v = false;
    return true;
  }
  return false;
}

bool JsonScanner::skip(int depth) {
  if (depth > 512) return false;
  ws();
  if (p_ >= e_) return false;
  char c = *p_;
  if (c == '"') {
    ++p_;
    while (p_ < e_ && *p_ != '"') p_ += (*p_ == '\\') ? 2 : 1;
    if (p_ >= e_) return false;
    ++p_;
    return true;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++p_;
    if (eat(close)) return true;
    while (true) {
      if (c == '{') {
        if (!skip(depth + 1) || !eat(':')) return false;
      }
      if (!skip(depth + 1)) return false;
      if (eat(',')) continue;
      return eat(close);
    }
  }
  const char* q = p_;
  while (p_ < e_ && (std::isalnum(static_cast<unsigned char>(*p_)) || *p_ == '-' || *p_ == '+' ||
                     *p_ == '.'))
    ++p_;
  return p_ > q;
}

bool JsonScanner::hex4(uint32_t* v) {
  if (e_ - p_ < 4) return false;
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i) {
    char c = *p_++;
    x <<= 4;
    if (c >= '0' && c <= '9') x |= uint32_t(c - '0');
    else if (c >= 'a' && c <= 'f') x |= uint32_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') x |= uint32_t(c - 'A' + 10);
    else return false;
  }
  *v = x;
  return true;
}

}  // namespace g4::tokenizer_detail
