// The token table as the runtime holds it (bitgpt_tokenizer.h): one byte string and
// offsets. Both the interpreter and the emitted code encode and decode through it.
#pragma once

#include <vector>

#include "frontend/model.h"
#include "runtime/bitgpt_tokenizer.h"

namespace bitgpt {

struct LoweredVocab {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets;

  bg_vocab view() const { return {bytes.data(), offsets.data(), static_cast<int32_t>(offsets.size()) - 1}; }
};

LoweredVocab lower_vocab(const Tokenizer& t);

}  // namespace bitgpt
