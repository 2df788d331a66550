// UTF-8 helpers for the tokenizer: validating, repairing (ill-formed parts -> U+FFFD), encoding
// and decoding code points, and the few Unicode properties the tokenizer needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace g4::tokenizer_detail {

// Length of the UTF-8 character whose lead byte is c (text known to be well-formed).
inline size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

// The code point of the well-formed UTF-8 character p[0..len).
inline uint32_t decode_cp(const unsigned char* p, size_t len) {
  if (len == 1) return p[0];
  if (len == 2) return ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  if (len == 3) return ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  return ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

// Rust's char::is_whitespace (Unicode White_Space), for added tokens with lstrip/rstrip.
inline bool is_unicode_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Appends s to out with every ill-formed part replaced by U+FFFD. A truncated sequence at the end
// counts as ill-formed when `final`; otherwise it is left unconsumed. Returns bytes consumed.
size_t append_sanitized(std::string_view s, bool final, std::string* out);

// Whether s is well-formed UTF-8.
bool utf8_valid(std::string_view s);

// Appends the UTF-8 encoding of code point cp.
void append_utf8(uint32_t cp, std::string* out);

}  // namespace g4::tokenizer_detail
