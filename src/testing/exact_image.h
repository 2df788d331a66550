// An exactly-sized heap copy of a file image, so that AddressSanitizer flags any read past its end.
// Used by the parser tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace g4::testing {

class ExactImage {
 public:
  explicit ExactImage(const std::vector<uint8_t>& b) : n_(b.size()), p_(new uint8_t[b.size()]) {
    if (n_) std::memcpy(p_.get(), b.data(), n_);
  }
  const uint8_t* data() const { return p_.get(); }
  size_t size() const { return n_; }

 private:
  size_t n_;
  std::unique_ptr<uint8_t[]> p_;
};

}  // namespace g4::testing
