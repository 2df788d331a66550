// UTF-8 validation and repair, following Unicode Table 3-7 and its "maximal subpart" practice.

#include "text/utf8.h"

namespace g4::tokenizer_detail {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8 { kOk, kInvalid, kTruncated };

// Examines the sequence starting at p[0] (n >= 1 bytes available), per Unicode Table 3-7.
// kOk: *len is its length. kInvalid: *len is the maximal subpart to replace by one U+FFFD (>= 1).
// kTruncated: all n bytes are a proper prefix of a well-formed sequence; *len = n.
Utf8 utf8_next(const unsigned char* p, size_t n, size_t* len) {
  unsigned c = p[0];
  if (c < 0x80) {
    *len = 1;
    return Utf8::kOk;
  }
  size_t need;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c == 0xE0) {
    need = 3, lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    need = 3;
  } else if (c == 0xED) {
    need = 3, hi = 0x9F;
  } else if (c == 0xF0) {
    need = 4, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    need = 4;
  } else if (c == 0xF4) {
    need = 4, hi = 0x8F;
  } else {
    *len = 1;
    return Utf8::kInvalid;
  }
  for (size_t i = 1; i < need; ++i) {
    if (i >= n) {
      *len = i;
      return Utf8::kTruncated;
    }
    unsigned b = p[i];
    unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      *len = i;
      return Utf8::kInvalid;
    }
  }
  *len = need;
  return Utf8::kOk;
}

}  // namespace

size_t append_sanitized(std::string_view s, bool final, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && p[run] < 0x80) ++run;  // ASCII fast path
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    size_t len;
    Utf8 r = utf8_next(p + i, n - i, &len);
    if (r == Utf8::kOk) {
      out->append(s.data() + i, len);
    } else if (r == Utf8::kInvalid || final) {
      out->append(kReplacementChar);
    } else {
      break;  // truncated, wait for more bytes
    }
    i += len;
  }
  return i;
}

bool utf8_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    if (utf8_next(p + i, n - i, &len) != Utf8::kOk) return false;
    i += len;
  }
  return true;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

}  // namespace g4::tokenizer_detail
