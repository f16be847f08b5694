#include "compiler/generate.h"

#include <fmt/format.h>

#include "compiler/vocab.h"
#include "frontend/diagnostics.h"
#include "runtime/bitgpt_numerics.h"

namespace bitgpt {

std::vector<int32_t> encode_prompt(const Tokenizer& t, const std::string& prompt) {
  const LoweredVocab lv = lower_vocab(t);
  const bg_vocab v = lv.view();
  std::vector<int32_t> ids(prompt.size() + 1);
  const int32_t n = bg_encode(&v, prompt.data(), static_cast<int32_t>(prompt.size()), ids.data(), static_cast<int32_t>(ids.size()));
  if (n < 0) throw Error(fmt::format("--prompt: byte offset {}: no token of the model's vocabulary starts with byte 0x{:02x}", -1 - n, static_cast<unsigned char>(prompt[-1 - n])));
  ids.resize(static_cast<size_t>(n));
  return ids;
}

GenerateResult generate(Engine& engine, const Tokenizer& t, const GenerateOptions& o) {
  GenerateResult r;
  std::vector<int32_t> input = encode_prompt(t, o.prompt);
  input.insert(input.begin(), static_cast<int32_t>(t.bos));
  engine.reset(o.seed);
  r.text = o.prompt;
  for (int32_t tok : input) {
    if (engine.feed(tok) == kFeedContextFull) { r.context_full = true; break; }
  }
  for (int64_t i = 0; i < o.tokens && !r.context_full; ++i) {
    const int32_t next = engine.next(o.temperature_q16);
    r.generated.push_back(next);
    r.text += t.pieces[static_cast<size_t>(next)];
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
