#include "support/text.h"

#include <cctype>

namespace bitgpt {

std::string c_identifier_from(const std::string& s, size_t max_length) {
  std::string n = s;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) n = "m_" + n;
  return n.substr(0, max_length);
}

bool is_c_identifier(const std::string& s, size_t max_length) {
  if (s.empty() || s.size() > max_length) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::optional<unsigned char> byte_fallback(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

std::string table_token_text(const std::string& piece) {
  const auto byte = static_cast<unsigned char>(piece.empty() ? 0 : piece[0]);
  if (piece.size() == 1 && (byte < 0x20 || byte >= 0x7f)) {
    static const char* const hex = "0123456789ABCDEF";
    return std::string("<0x") + hex[byte >> 4] + hex[byte & 15] + ">";
  }
  return piece;
}

}  // namespace bitgpt
