#include "text/jinja/pystr.h"

namespace g4::jinja::pystr {

std::vector<char32_t> decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::string encode(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < cps.size(); ++i) append_utf8(out, cps[i]);
  return out;
}

size_t length(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string strip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<char32_t> cps = decode(s);
  std::vector<char32_t> set;
  if (chars) set = decode(*chars);
  auto strippable = [&](char32_t c) {
    if (!chars) return is_space(c);
    for (char32_t x : set)
      if (x == c) return true;
    return false;
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strippable(cps[b])) ++b;
  if (right)
    while (e > b && strippable(cps[e - 1])) --e;
  return encode(cps, b, e);
}

namespace {

// Simple case mapping for ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic (0 = no mapping).
char32_t upper_cp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return 0;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  if (c == 0x131) return 'I';
  if (c == 0x130) return 0;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c & 1) ? c - 1 : 0;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? 0 : c - 1;
  if (c == 0x17F) return 'S';
  if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return 0;
}

char32_t lower_cp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return 0;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c == 0x130 || c == 0x131) return 0;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c & 1) ? 0 : c + 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : 0;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return 0;
}

// Letters with a case (Unicode "cased") in the covered ranges.
bool is_cased(char32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  if (c == 0xAA || c == 0xB5 || c == 0xBA) return true;
  if (c >= 0xC0 && c <= 0x17F) return c != 0xD7 && c != 0xF7;
  if (c >= 0x386 && c <= 0x3CE) return c != 0x387 && c != 0x38B && c != 0x38D && c != 0x3A2;
  return c >= 0x400 && c <= 0x45F;
}

// Characters whose upper (or title) case is several code points.
bool put_special_upper(std::string& out, char32_t c, bool title) {
  switch (c) {
    case 0xDF:  // ß
      out += title ? "Ss" : "SS";
      return true;
    case 0x149:  // ŉ
      out += "\u02bcN";
      return true;
    case 0x390:  // ΐ
      out += "\u0399\u0308\u0301";
      return true;
    case 0x3B0:  // ΰ
      out += "\u03a5\u0308\u0301";
      return true;
    default:
      return false;
  }
}

void put_upper(std::string& out, char32_t c, bool title = false) {
  if (put_special_upper(out, c, title)) return;
  char32_t u = upper_cp(c);
  append_utf8(out, u ? u : c);
}

// Lowercases cps[k]; capital sigma becomes final sigma at the end of a word, as Python does.
void put_lower(std::string& out, const std::vector<char32_t>& cps, size_t k) {
  char32_t c = cps[k];
  if (c == 0x3A3) {
    bool before = k > 0 && is_cased(cps[k - 1]);
    bool after = k + 1 < cps.size() && is_cased(cps[k + 1]);
    append_utf8(out, before && !after ? 0x3C2 : 0x3C3);
    return;
  }
  if (c == 0x130) {  // İ -> i + combining dot above
    out += "i\u0307";
    return;
  }
  char32_t l = lower_cp(c);
  append_utf8(out, l ? l : c);
}

}  // namespace

std::string upper(std::string_view s) {
  std::string out;
  for (char32_t c : decode(s)) put_upper(out, c);
  return out;
}

std::string lower(std::string_view s) {
  std::string out;
  auto cps = decode(s);
  for (size_t k = 0; k < cps.size(); ++k) put_lower(out, cps, k);
  return out;
}

std::string title(std::string_view s) {
  // str.title(): a cased character after an uncased one is uppercased, others lowercased.
  std::string out;
  auto cps = decode(s);
  bool prev_cased = false;
  for (size_t k = 0; k < cps.size(); ++k) {
    bool cased = is_cased(cps[k]);
    if (cased && !prev_cased) put_upper(out, cps[k], true);
    else if (cased) put_lower(out, cps, k);
    else append_utf8(out, cps[k]);
    prev_cased = cased;
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  auto cps = decode(s);
  for (size_t k = 0; k < cps.size(); ++k) {
    if (k == 0) put_upper(out, cps[k], true);
    else put_lower(out, cps, k);
  }
  return out;
}

std::string title_words(std::string_view s) {
  // jinja2's title filter: split on runs of - whitespace ( { [ <, then capitalize each piece.
  std::string out;
  auto cps = decode(s);
  auto is_sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_space(c); };
  size_t k = 0;
  while (k < cps.size()) {
    size_t e = k;
    bool sep = is_sep(cps[k]);
    while (e < cps.size() && is_sep(cps[e]) == sep) ++e;
    if (sep) {
      out += encode(cps, k, e);
    } else {
      // word[0].upper() + word[1:].lower(), the rest lowercased on its own (final sigma context).
      put_upper(out, cps[k]);
      std::vector<char32_t> rest(cps.begin() + long(k) + 1, cps.begin() + long(e));
      for (size_t q = 0; q < rest.size(); ++q) put_lower(out, rest, q);
    }
    k = e;
  }
  return out;
}

std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (!sep) {
    std::vector<char32_t> cps = decode(s);
    size_t i = 0;
    while (true) {
      while (i < cps.size() && is_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && int64_t(out.size()) >= maxsplit) {
        size_t e = cps.size();
        while (e > i && is_space(cps[e - 1])) --e;
        out.push_back(encode(cps, i, e));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !is_space(cps[j])) ++j;
      out.push_back(encode(cps, i, j));
      i = j;
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t pos = (maxsplit >= 0 && int64_t(out.size()) >= maxsplit) ? std::string_view::npos : s.find(*sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      break;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + sep->size();
  }
  return out;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` between every character (and at both ends).
    std::vector<char32_t> cps = decode(s);
    int64_t n = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (i < cps.size()) append_utf8(out, cps[i]);
    }
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  while (true) {
    size_t pos = (count >= 0 && n >= count) ? std::string_view::npos : s.find(from, start);
    if (pos == std::string_view::npos) {
      out += s.substr(start);
      break;
    }
    out += s.substr(start, pos - start);
    out += to;
    start = pos + from.size();
    ++n;
  }
  return out;
}

}  // namespace g4::jinja::pystr
