// Small checks on names and token text, shared by the loaders (without <regex>, whose
// GCC 12 headers do not build warning-free under the sanitizers).
#pragma once

#include <optional>
#include <string>

namespace bitgpt {

// [A-Za-z_][A-Za-z0-9_]*, at most max_length characters.
bool is_c_identifier(const std::string& s, size_t max_length);

// The byte of a SentencePiece byte-fallback token ("<0x0A>" -> 0x0A), or none.
std::optional<unsigned char> byte_fallback(const std::string& piece);

}  // namespace bitgpt
