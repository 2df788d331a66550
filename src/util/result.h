// Error values: every fallible step returns Result<T>, whose error names what is wrong
// (the file, tensor, field or request part), so callers can show one clear line.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <variant>

namespace g4 {

struct Error {
  std::string message;
};

// printf-style helper for building error messages.
template <typename... Args>
Error make_error(const char* fmt, Args... args) {
  if constexpr (sizeof...(Args) == 0) {
    return Error{fmt};
  } else {
    int n = std::snprintf(nullptr, 0, fmt, args...);
    std::string s(n > 0 ? size_t(n) : 0, '\0');
    std::snprintf(s.data(), s.size() + 1, fmt, args...);
    return Error{std::move(s)};
  }
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(std::move(e)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result for operations that produce nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace g4

// Propagate an error from an expression returning Result<T> or Status.
#define G4_TRY(expr)                        \
  do {                                      \
    auto&& g4_try_r_ = (expr);              \
    if (!g4_try_r_.ok()) return g4_try_r_.error(); \
  } while (0)

#define G4_CONCAT_INNER(a, b) a##b
#define G4_CONCAT(a, b) G4_CONCAT_INNER(a, b)
// Bind the value of a Result<T> expression to `lhs`, or return its error.
#define G4_ASSIGN_OR_RETURN(lhs, expr) G4_ASSIGN_OR_RETURN_IMPL(G4_CONCAT(g4_r_, __LINE__), lhs, expr)
#define G4_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()
