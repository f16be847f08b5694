#include "support/diagnostics.h"

namespace bitgpt {

void fail(const std::string& file, const std::string& field, const std::string& what) {
  std::string msg = file;
  if (!field.empty()) msg += ": " + field;
  msg += ": " + what;
  throw Error(msg);
}

}  // namespace bitgpt
