// libFuzzer harness: model.json manifests (the sidecar stays the seed model's), loaded and
// lowered. Every input must end in a model or in bitgpt::Error, never in a crash.
#include "frontend/lower.h"
#include "frontend/model_json.h"
#include "support/diagnostics.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bitgpt;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::write_seed_model();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t n) {
  const std::string path = fuzz::write_file("model.json", data, n);
  try {
    const Model m = load_model_json(path);
    if (m.arch.d_model * m.arch.n_layers <= 4096) lower_model(m, 4, 8);
  } catch (const Error&) {
  }
  return 0;
}
