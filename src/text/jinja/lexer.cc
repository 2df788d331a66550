#include "text/jinja/lexer.h"

#include <string>

#include "text/jinja/pystr.h"

namespace g4::jinja {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string rstrip_ws(std::string_view s) {
  size_t e = s.size();
  while (e > 0 && is_ws(s[e - 1])) --e;
  return std::string(s.substr(0, e));
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the Python escape sequences of a string literal body.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '0': out += '\0'; break;
      case '\n': break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        char32_t cp = 0;
        bool ok = true;
        for (size_t k = 1; k <= n; ++k) {
          if (i + k >= s.size() || hexval(s[i + k]) < 0) {
            ok = false;
            break;
          }
          cp = cp * 16 + char32_t(hexval(s[i + k]));
        }
        if (ok && cp <= 0x10FFFF) {
          pystr::append_utf8(out, cp);
          i += n;
        } else {
          out += '\\';
          out += e;
        }
        break;
      }
      default:
        out += '\\';
        out += e;
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string src, const std::string& name, const LexOptions& opt) : src_(std::move(src)), name_(name), opt_(opt) {}

  Result<std::vector<Token>> run() {
    size_t n = src_.size();
    while (pos_ < n) {
      size_t idx = find_tag(pos_);
      if (idx == std::string::npos) {
        emit(Tok::Text, src_.substr(pos_), line_);
        advance(n);
        break;
      }
      char kind = src_[idx + 1];
      char mod = idx + 2 < n ? src_[idx + 2] : '\0';
      std::string text = src_.substr(pos_, idx - pos_);
      if (mod == '-') {
        text = rstrip_ws(text);
      } else if (mod != '+' && opt_.lstrip_blocks && kind != '{') {
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        bool line_starting = pos_ == 0 || src_[pos_ - 1] == '\n';
        if (l_pos > 0 || line_starting) {
          bool all_ws = l_pos < text.size();
          for (size_t k = l_pos; k < text.size() && all_ws; ++k) all_ws = is_ws(text[k]);
          if (all_ws) text.resize(l_pos);
        }
      }
      if (!text.empty()) emit(Tok::Text, text, line_);
      advance(idx);
      int tag_line = line_;
      advance(idx + 2 + ((mod == '-' || mod == '+') ? 1 : 0));
      if (kind == '#') {
        size_t end = src_.find("#}", pos_);
        if (end == std::string::npos) return err(tag_line, "Missing end of comment tag");
        char before = end > pos_ ? src_[end - 1] : '\0';
        advance(end + 2);
        after_tag(before, true);
        continue;
      }
      if (kind == '%' && lex_raw()) continue;
      G4_TRY(lex_tag(kind == '%', tag_line));
    }
    emit(Tok::End, "", line_);
    return std::move(out_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t k = from; k + 1 < src_.size(); ++k) {
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
    }
    return std::string::npos;
  }

  void advance(size_t to) {
    for (size_t k = pos_; k < to && k < src_.size(); ++k)
      if (src_[k] == '\n') ++line_;
    pos_ = to;
  }

  void emit(Tok t, std::string text, int line) { out_.push_back(Token{t, std::move(text), line}); }

  Error err(int line, const std::string& msg) const { return make_error("%s:%d: %s", name_.c_str(), line, msg.c_str()); }

  // Whitespace handling after a block/comment/variable end; `mod` is the char before the end marker.
  void after_tag(char mod, bool is_block) {
    if (mod == '-') {
      size_t k = pos_;
      while (k < src_.size() && is_ws(src_[k])) ++k;
      advance(k);
    } else if (mod != '+' && is_block && opt_.trim_blocks && pos_ < src_.size() && src_[pos_] == '\n') {
      advance(pos_ + 1);
    }
  }

  // Matches `\s*<word>\s*[-+]?%}` at `at`; returns the end position and the modifier before `%}`.
  size_t match_word_tag(size_t at, const char* word, char* mod) const {
    size_t k = at, n = src_.size();
    while (k < n && is_ws(src_[k])) ++k;
    size_t wl = std::char_traits<char>::length(word);
    if (src_.compare(k, wl, word) != 0) return std::string::npos;
    k += wl;
    if (k < n && (is_name_start(src_[k]) || is_digit(src_[k]))) return std::string::npos;
    while (k < n && is_ws(src_[k])) ++k;
    *mod = '\0';
    if (k < n && (src_[k] == '-' || src_[k] == '+')) *mod = src_[k++];
    if (src_.compare(k, 2, "%}") != 0) return std::string::npos;
    return k + 2;
  }

  // `{% raw %}...{% endraw %}`: emits the body as text. pos_ is just after `{%` (and its modifier).
  bool lex_raw() {
    char mod;
    size_t body = match_word_tag(pos_, "raw", &mod);
    if (body == std::string::npos) return false;
    if (mod == '-')
      while (body < src_.size() && is_ws(src_[body])) ++body;
    for (size_t k = src_.find("{%", body); k != std::string::npos; k = src_.find("{%", k + 2)) {
      size_t after = k + 2;
      char open_mod = '\0';
      if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) open_mod = src_[after++];
      char end_mod;
      size_t end = match_word_tag(after, "endraw", &end_mod);
      if (end == std::string::npos) continue;
      std::string text = src_.substr(body, k - body);
      if (open_mod == '-') {
        text = rstrip_ws(text);
      } else if (open_mod != '+' && opt_.lstrip_blocks) {
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        bool line_starting = body == 0 || src_[body - 1] == '\n';
        bool all_ws = l_pos < text.size();
        for (size_t q = l_pos; q < text.size() && all_ws; ++q) all_ws = is_ws(text[q]);
        if ((l_pos > 0 || line_starting) && all_ws) text.resize(l_pos);
      }
      int line = line_;
      advance(body);
      if (!text.empty()) emit(Tok::Text, text, line);
      advance(end);
      after_tag(end_mod, true);
      return true;
    }
    return false;  // unterminated: lex_tag reports "unknown tag 'raw'"
  }

  Status lex_tag(bool block, int tag_line) {
    emit(block ? Tok::BlockBegin : Tok::VarBegin, "", tag_line);
    int depth = 0;
    size_t n = src_.size();
    while (true) {
      size_t k = pos_;
      while (k < n && is_ws(src_[k])) ++k;
      advance(k);
      if (pos_ >= n) return err(tag_line, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      const char* end = block ? "%}" : "}}";
      if (depth == 0) {
        char c = src_[pos_];
        if ((c == '-' || c == '+') && src_.compare(pos_ + 1, 2, end) == 0) {
          emit(block ? Tok::BlockEnd : Tok::VarEnd, "", line_);
          advance(pos_ + 3);
          after_tag(c, block);
          return {};
        }
        if (src_.compare(pos_, 2, end) == 0) {
          emit(block ? Tok::BlockEnd : Tok::VarEnd, "", line_);
          advance(pos_ + 2);
          after_tag('\0', block);
          return {};
        }
      }
      char c = src_[pos_];
      int line = line_;
      if (is_name_start(c)) {
        size_t e = pos_;
        while (e < n && (is_name_start(src_[e]) || is_digit(src_[e]))) ++e;
        emit(Tok::Name, src_.substr(pos_, e - pos_), line);
        advance(e);
      } else if (is_digit(c)) {
        size_t e = pos_;
        bool is_float = false;
        while (e < n && (is_digit(src_[e]) || src_[e] == '_')) ++e;
        if (e + 1 < n && src_[e] == '.' && is_digit(src_[e + 1])) {
          is_float = true;
          ++e;
          while (e < n && (is_digit(src_[e]) || src_[e] == '_')) ++e;
        }
        if (e < n && (src_[e] == 'e' || src_[e] == 'E')) {
          size_t x = e + 1;
          if (x < n && (src_[x] == '+' || src_[x] == '-')) ++x;
          if (x < n && is_digit(src_[x])) {
            is_float = true;
            e = x;
            while (e < n && is_digit(src_[e])) ++e;
          }
        }
        std::string num;
        for (size_t q = pos_; q < e; ++q)
          if (src_[q] != '_') num += src_[q];
        emit(is_float ? Tok::Float : Tok::Int, num, line);
        advance(e);
      } else if (c == '\'' || c == '"') {
        size_t e = pos_ + 1;
        while (e < n && src_[e] != c) {
          if (src_[e] == '\\') ++e;
          ++e;
        }
        if (e >= n) return err(line, "unexpected end of string");
        emit(Tok::String, unescape(std::string_view(src_).substr(pos_ + 1, e - pos_ - 1)), line);
        advance(e + 1);
      } else {
        static const char* two[] = {"**", "//", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* t : two)
          if (src_.compare(pos_, 2, t) == 0) op = t;
        if (op.empty()) {
          if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos)
            return err(line, std::string("unexpected char '") + c + "'");
          op = std::string(1, c);
          if (c == '(' || c == '[' || c == '{') ++depth;
          if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        }
        emit(Tok::Op, op, line);
        advance(pos_ + op.size());
      }
    }
  }

  std::string src_;
  const std::string& name_;
  LexOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> out_;
};

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source, const std::string& name, const LexOptions& opt) {
  // Like jinja2: normalise newlines to "\n" and drop one trailing newline.
  std::string src;
  src.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      src += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      src += source[k];
    }
  }
  if (!opt.keep_trailing_newline && !src.empty() && src.back() == '\n') src.pop_back();
  Lexer lx(std::move(src), name, opt);
  return lx.run();
}

}  // namespace g4::jinja
