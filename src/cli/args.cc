#include "cli/args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace g4::cli {

Args::Args(std::string command, std::string summary, std::vector<Option> options)
    : command_(std::move(command)), summary_(std::move(summary)), options_(std::move(options)) {}

const Option* Args::find(const std::string& name, bool is_short) const {
  for (const auto& o : options_)
    if ((is_short ? o.short_name : o.long_name) == name) return &o;
  return nullptr;
}

Status Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      help_ = true;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || (a[1] != '-' && std::isdigit(static_cast<unsigned char>(a[1])))) {
      positional_.push_back(a);
      continue;
    }
    bool is_long = a.rfind("--", 0) == 0;
    std::string name = a.substr(is_long ? 2 : 1), value;
    bool has_value = false;
    if (auto eq = name.find('='); is_long && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Option* o = find(name, !is_long);
    if (!o) return make_error("%s: unknown option '%s' (see g4 %s --help)", command_.c_str(), a.c_str(), command_.c_str());
    if (o->value_name.empty()) {
      if (has_value) return make_error("%s: option --%s takes no value", command_.c_str(), o->long_name.c_str());
      values_[o->long_name] = "1";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc)
        return make_error("%s: option --%s needs a value (%s)", command_.c_str(), o->long_name.c_str(), o->value_name.c_str());
      value = argv[++i];
    }
    values_[o->long_name] = value;
  }
  return {};
}

std::string Args::usage() const {
  std::string s = "usage: g4 " + command_ + " [options]\n" + summary_ + "\n\noptions:\n";
  for (const auto& o : options_) {
    std::string left = "  " + (o.short_name.empty() ? std::string("    ") : "-" + o.short_name + ", ") + "--" + o.long_name;
    if (!o.value_name.empty()) left += " " + o.value_name;
    if (left.size() < 30) left.resize(30, ' ');
    else left += "  ";
    s += left + o.help;
    if (!o.default_value.empty()) s += " (default: " + o.default_value + ")";
    s += "\n";
  }
  s += "  -h, --help                  show this help\n";
  return s;
}

bool Args::has(const std::string& name) const { return values_.count(name) > 0; }

std::string Args::str(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  for (const auto& o : options_)
    if (o.long_name == name) return o.default_value;
  return "";
}

Result<int> Args::integer(const std::string& name, int lo, int hi) const {
  std::string v = str(name);
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo || x > hi)
    return make_error("%s: --%s must be an integer in [%d, %d] (got '%s')", command_.c_str(), name.c_str(), lo, hi, v.c_str());
  return int(x);
}

Result<double> Args::number(const std::string& name, double lo, double hi) const {
  std::string v = str(name);
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || errno || !std::isfinite(x) || x < lo || x > hi)
    return make_error("%s: --%s must be a number in [%g, %g] (got '%s')", command_.c_str(), name.c_str(), lo, hi, v.c_str());
  return x;
}

}  // namespace g4::cli
