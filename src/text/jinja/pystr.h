// Python str semantics over UTF-8 strings: code point indexing, strip() with Unicode whitespace,
// simple case mapping for ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic (other scripts
// are left unchanged; special cases other than ß -> SS and final sigma are not handled).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace g4::jinja::pystr {

// Decodes UTF-8 into code points (invalid bytes map to U+FFFD, one per byte).
std::vector<char32_t> decode(std::string_view s);
std::string encode(const std::vector<char32_t>& cps, size_t begin, size_t end);
void append_utf8(std::string& out, char32_t cp);
size_t length(std::string_view s);
bool is_space(char32_t cp);
// str.strip()/lstrip()/rstrip(): with chars == nullptr strips Unicode whitespace.
std::string strip(std::string_view s, const std::string* chars, bool left, bool right);
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);
std::string capitalize(std::string_view s);
// jinja2's `title` filter (capitalizes pieces split on - whitespace ( { [ <), unlike str.title().
std::string title_words(std::string_view s);
// str.split(sep=None / sep, maxsplit).
std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count);

}  // namespace g4::jinja::pystr
