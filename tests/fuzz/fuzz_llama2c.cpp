// libFuzzer harness: llama2.c checkpoints (legacy, version 1 float32, version 2 Q8_0,
// bitllama2.c ternary) with their tokenizer.bin, loaded and lowered. The input is split in
// two (fuzz_common.h): the checkpoint, then the tokenizer.
#include "frontend/llama2c.h"
#include "frontend/lower.h"
#include "support/diagnostics.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bitgpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t n) {
  const auto [checkpoint, tokenizer] = fuzz::split(data, n);
  const std::string model = fuzz::write_file("model.bin", checkpoint.data(), checkpoint.size());
  const std::string tok = fuzz::write_file("tokenizer.bin", tokenizer.data(), tokenizer.size());
  try {
    const Model m = load_llama2c(model, tok);
    if (m.arch.d_model * m.arch.n_layers <= 4096) lower_model(m, 4, 8);
  } catch (const Error&) {
  }
  return 0;
}
