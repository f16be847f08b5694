// What the writers of llama.cpp's and Hugging Face's formats share: which of this
// compiler's models the Llama family (llama, bitnet) can express, and a tokenizer's
// pieces spelt SentencePiece's way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/model.h"

namespace bitgpt {

// Empty when a is a Llama (or BitNet, with sub-norms) architecture; otherwise what is not.
std::string why_not_llama_family(const Architecture& a);

// Token i as SentencePiece spells it, and its GGUF token type (1 normal, 2 unknown,
// 3 control, 6 byte): a space is U+2581, a byte-fallback token "<0xNN>", an empty
// (control) piece "<unk>", "<s>", "</s>" for ids 0..2 of a BPE vocabulary and
// "<ctrlN>" otherwise. A table tokenizer's single bytes are byte tokens.
struct SentencePieceVocab {
  std::vector<std::string> pieces;
  std::vector<int32_t> types;
};
SentencePieceVocab sentencepiece_vocab(const Tokenizer& tok);

// A SentencePiece piece as text: U+2581 back to a space (what the readers of GGUF's and
// Hugging Face's vocabularies do with an ordinary piece).
std::string sentencepiece_text(std::string piece);

}  // namespace bitgpt
