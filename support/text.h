// Small checks on names and token text, shared by the loaders (without <regex>, whose
// GCC 12 headers do not build warning-free under the sanitizers).
#pragma once

#include <optional>
#include <string>

namespace bitgpt {

// [A-Za-z_][A-Za-z0-9_]*, at most max_length characters.
bool is_c_identifier(const std::string& s, size_t max_length);

// A C identifier of at most max_length characters made from s: other characters become
// '_', and "m_" goes before an empty or digit-led result ("stories260K" stays,
// "bitnet-b1.58" becomes "bitnet_b1_58").
std::string c_identifier_from(const std::string& s, size_t max_length);

// The byte of a SentencePiece byte-fallback token ("<0x0A>" -> 0x0A), or none.
std::optional<unsigned char> byte_fallback(const std::string& piece);

// A table token as text (model.json, a Hugging Face table tokenizer): a single byte that
// is not printable ASCII becomes "<0xNN>", anything else stays as it is.
std::string table_token_text(const std::string& piece);

}  // namespace bitgpt
