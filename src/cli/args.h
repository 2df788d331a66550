// A small command-line parser: each command declares its options, and gets --help and one-line errors
// for unknown options, missing values and bad numbers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace g4::cli {

struct Option {
  std::string long_name;   // "model"
  std::string short_name;  // "m" (may be empty)
  std::string value_name;  // "PATH"; empty for a flag
  std::string help;
  std::string default_value;
};

class Args {
 public:
  Args(std::string command, std::string summary, std::vector<Option> options);
  // Parses argv after the command name. Returns an error message for bad input.
  Status parse(int argc, char** argv);
  bool help_requested() const { return help_; }
  std::string usage() const;

  bool has(const std::string& name) const;
  std::string str(const std::string& name) const;  // value or default
  Result<int> integer(const std::string& name, int lo, int hi) const;
  Result<double> number(const std::string& name, double lo, double hi) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const Option* find(const std::string& name, bool is_short) const;
  std::string command_, summary_;
  std::vector<Option> options_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace g4::cli
