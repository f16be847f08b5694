#include "frontend/llama_family.h"

#include <fmt/format.h>

namespace bitgpt {

namespace {
constexpr const char* kSentencePieceSpace = "\xe2\x96\x81";  // U+2581
}  // namespace

std::string why_not_llama_family(const Architecture& a) {
  return a.positions != Positions::Rope          ? "learned positions"
         : a.norm != NormKind::RmsNorm           ? "a norm other than RMSNorm with gain"
         : a.ffn != FfnKind::SwiGLU              ? "an FFN other than SwiGLU"
         : a.sub_norm && a.q_dim() != a.d_model  ? "sub-norms with q_dim != d_model"
                                                 : "";
}

SentencePieceVocab sentencepiece_vocab(const Tokenizer& tok) {
  const bool table = tok.kind == TokenizerKind::Table;
  static const char* const kSpecial[] = {"<unk>", "<s>", "</s>"};
  SentencePieceVocab v;
  for (size_t i = 0; i < tok.pieces.size(); ++i) {
    std::string p = tok.pieces[i];
    int32_t type = 1;
    if (table ? p.size() == 1 : static_cast<bool>(tok.byte_fallback[i])) {
      p = fmt::format("<0x{:02X}>", static_cast<unsigned char>(p[0]));
      type = 6;
    } else if (p.empty()) {
      p = i < 3 && !table ? kSpecial[i] : fmt::format("<ctrl{}>", i);
      type = i == 0 ? 2 : 3;
    } else {
      for (size_t at = p.find(' '); at != std::string::npos; at = p.find(' ', at + 3)) p.replace(at, 1, kSentencePieceSpace);
    }
    v.pieces.push_back(p);
    v.types.push_back(type);
  }
  return v;
}

std::string sentencepiece_text(std::string piece) {
  for (size_t at = piece.find(kSentencePieceSpace); at != std::string::npos; at = piece.find(kSentencePieceSpace, at + 1)) piece.replace(at, 3, " ");
  return piece;
}

}  // namespace bitgpt
