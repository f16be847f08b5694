#include "support/size_parse.h"

#include <cctype>

#include "support/diagnostics.h"

namespace bitgpt {

int64_t parse_size(const std::string& text, const std::string& option) {
  auto bad = [&]() -> int64_t {
    throw Error(option + ": '" + text + "' is not a size (examples: 8192, 0x2000, 8K, 8KiB, 1M)");
  };
  size_t i = 0;
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) { base = 16; i = 2; }
  int64_t value = 0;
  const size_t digits_begin = i;
  for (; i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i])); ++i) {
    const char ch = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    if (base == 10 && !std::isdigit(static_cast<unsigned char>(ch))) break;
    value = value * base + (std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : ch - 'a' + 10);
    if (value > (int64_t{1} << 40)) bad();
  }
  if (i == digits_begin) bad();
  std::string suffix = text.substr(i);
  for (char& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  int64_t mult = 1;
  if (suffix.empty() || suffix == "B") mult = 1;
  else if (suffix == "K" || suffix == "KB" || suffix == "KIB") mult = 1024;
  else if (suffix == "M" || suffix == "MB" || suffix == "MIB") mult = 1024 * 1024;
  else if (suffix == "G" || suffix == "GB" || suffix == "GIB") mult = 1024 * 1024 * 1024;
  else bad();
  if (base == 16 && mult != 1) bad();
  if (value == 0 || value * mult >= (int64_t{1} << 40)) bad();
  return value * mult;
}

}  // namespace bitgpt
