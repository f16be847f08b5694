// The token table as the runtime holds it (bitgpt_tokenizer.h): one byte string and
// offsets, plus, for a BPE tokenizer, the lookup and merge tables derived at compile time.
// Both the interpreter and the emitted code encode and decode through it.
#pragma once

#include <vector>

#include "ir/model.h"
#include "runtime/bitgpt_tokenizer.h"

namespace bitgpt {

struct LoweredVocab {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets;
  bool bpe = false;
  std::vector<uint16_t> sorted;      // tokens a code point or merge can produce, by text
  std::vector<uint16_t> merge_rank;  // per token, the order of its score (0: never merges)
  std::vector<uint16_t> byte_token;  // [256] byte-fallback tokens, BG_NO_TOKEN for none
  int32_t dummy_prefix = -1;
  int32_t bos = 0;

  bg_vocab view() const;
  int64_t flash_bytes() const;
};

LoweredVocab lower_vocab(const Tokenizer& t);

}  // namespace bitgpt
