// libFuzzer harness: llama2.c tokenizer.bin files and BPE encoding with them. The input is
// split in two (fuzz_common.h): a text to encode, then the tokenizer; the vocabulary size
// comes from the text's first two bytes.
#include "frontend/llama2c.h"
#include "interp/generate.h"
#include "support/diagnostics.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bitgpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t n) {
  const auto [text, tokenizer] = fuzz::split(data, n);
  const int64_t vocab = text.size() >= 2 ? 3 + (text[0] | text[1] << 8) % 2000 : 300;
  const std::string tok = fuzz::write_file("tokenizer.bin", tokenizer.data(), tokenizer.size());
  try {
    const Tokenizer t = load_llama2c_tokenizer(tok, vocab);
    encode_text(t, std::string(text.begin(), text.end()), "fuzz", 1 << 20);
  } catch (const Error&) {
  }
  return 0;
}
