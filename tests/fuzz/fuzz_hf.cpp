// libFuzzer harness: Hugging Face folders (frontend/hf_folder.cpp, frontend/safetensors.cpp):
// the input is split into config.json and model.safetensors (fuzz_common.h, split); the
// folder's tokenizer.json is the seed model's. Loaded and lowered.
#include "frontend/hf_folder.h"
#include "frontend/lower.h"
#include "support/diagnostics.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bitgpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t n) {
  static const bool tokenizer_written = [] {
    const std::string t = hf_folder_files(fuzz::seed_model()).at("tokenizer.json");
    fuzz::write_file("tokenizer.json", reinterpret_cast<const uint8_t*>(t.data()), t.size());
    return true;
  }();
  (void)tokenizer_written;
  const auto [config, weights] = fuzz::split(data, n);
  fuzz::write_file("config.json", config.data(), config.size());
  fuzz::write_file("model.safetensors", weights.data(), weights.size());
  try {
    const Model m = load_hf_folder(fuzz::temp_dir().string());
    if (m.arch.d_model * m.arch.n_layers <= 4096) lower_model(m, 4, 8);
  } catch (const Error&) {
  }
  return 0;
}
