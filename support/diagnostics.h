// Errors a user can act on: every message names the file, the field or byte offset, and
// what was expected. The driver prints them and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace bitgpt {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<file>: <field>: <what>"
[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& what);

}  // namespace bitgpt
