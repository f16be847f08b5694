// libFuzzer harness: GGUF files (frontend/gguf.cpp: the container, every tensor type it
// decodes, the llama and bitnet architectures, the tokenizer), loaded and lowered.
#include "frontend/gguf.h"
#include "frontend/lower.h"
#include "support/diagnostics.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bitgpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t n) {
  const std::string path = fuzz::write_file("model.gguf", data, n);
  try {
    const Model m = load_gguf(path);
    if (m.arch.d_model * m.arch.n_layers <= 4096) lower_model(m, 4, 8);
  } catch (const Error&) {
  }
  return 0;
}
