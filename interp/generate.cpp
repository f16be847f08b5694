#include "interp/generate.h"

#include <fmt/format.h>

#include "ir/vocab.h"
#include "support/diagnostics.h"
#include "runtime/bitgpt_numerics.h"

namespace bitgpt {

namespace {

std::vector<int32_t> encode_with(const bg_vocab& v, const std::string& prompt) {
  std::vector<int32_t> ids(prompt.size() + 1);  // BPE works in one slot per byte, plus the dummy prefix
  int32_t bad = 0;
  const int32_t n = bg_encode(&v, prompt.data(), static_cast<int32_t>(prompt.size()), ids.data(), static_cast<int32_t>(ids.size()), &bad);
  if (n < 0)
    throw Error(fmt::format("--prompt: byte offset {}: no token of the model's vocabulary covers byte 0x{:02x}", bad,
                            static_cast<unsigned char>(prompt[static_cast<size_t>(bad)])));
  ids.resize(static_cast<size_t>(n));
  return ids;
}

}  // namespace

std::vector<int32_t> encode_prompt(const Tokenizer& t, const std::string& prompt) {
  const LoweredVocab lv = lower_vocab(t);
  return encode_with(lv.view(), prompt);
}

GenerateResult generate(Engine& engine, const Tokenizer& t, const GenerateOptions& o) {
  GenerateResult r;
  const LoweredVocab lv = lower_vocab(t);
  const bg_vocab v = lv.view();
  std::vector<int32_t> input = encode_with(v, o.prompt);
  input.insert(input.begin(), static_cast<int32_t>(t.bos));
  engine.reset(o.seed);
  r.text = o.prompt;
  for (int32_t tok : input) {
    if (engine.feed(tok) == kFeedContextFull) { r.context_full = true; break; }
  }
  int32_t prev = input.back();
  for (int64_t i = 0; i < o.tokens && !r.context_full; ++i) {
    const int32_t next = engine.next(o.temperature_q16);
    int32_t len = 0;
    const char* piece = bg_decode(&v, prev, next, &len);
    r.generated.push_back(next);
    r.text.append(piece, static_cast<size_t>(len));
    prev = next;
    if (i + 1 < o.tokens && engine.feed(next) == kFeedContextFull) r.context_full = true;
  }
  r.checksum = engine.checksum();
  return r;
}

int32_t parse_temperature(const std::string& text) {
  const int32_t q = bg_parse_q16(text.c_str());
  if (q < 0) throw Error("--temperature: '" + text + "' is not a non-negative decimal number (e.g. 0.8)");
  return q;
}

}  // namespace bitgpt
