#include "frontend/load_model.h"

#include "support/diagnostics.h"
#include "frontend/gguf.h"
#include "frontend/llama2c.h"
#include "frontend/model_json.h"

namespace bitgpt {

Model load_model(const std::string& path, const std::string& tokenizer_path) {
  // A tokenizer means a llama2.c checkpoint (whatever its first byte: an empty .bin is
  // then "too short for a llama2.c header", not a question about --tokenizer).
  const bool json_name = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (looks_like_gguf(path)) {
    if (!tokenizer_path.empty()) fail(tokenizer_path, "", "--tokenizer is for llama2.c checkpoints; a GGUF file carries its own tokenizer");
    return load_gguf(path);
  }
  if (looks_like_llama2c(path) || (!tokenizer_path.empty() && !json_name)) return load_llama2c(path, tokenizer_path);
  if (!tokenizer_path.empty()) fail(tokenizer_path, "", "--tokenizer is for llama2.c checkpoints; a model.json carries its own tokenizer");
  return load_model_json(path);
}

}  // namespace bitgpt
