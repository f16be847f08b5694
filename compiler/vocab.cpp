#include "compiler/vocab.h"

namespace bitgpt {

LoweredVocab lower_vocab(const Tokenizer& t) {
  LoweredVocab v;
  v.offsets.push_back(0);
  for (const std::string& p : t.pieces) {
    v.bytes.insert(v.bytes.end(), p.begin(), p.end());
    v.offsets.push_back(static_cast<uint32_t>(v.bytes.size()));
  }
  return v;
}

}  // namespace bitgpt
