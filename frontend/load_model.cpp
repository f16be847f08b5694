#include "frontend/load_model.h"

#include "support/diagnostics.h"
#include "frontend/llama2c.h"
#include "frontend/model_json.h"

namespace bitgpt {

Model load_model(const std::string& path, const std::string& tokenizer_path) {
  if (looks_like_llama2c(path)) return load_llama2c(path, tokenizer_path);
  if (!tokenizer_path.empty()) fail(tokenizer_path, "", "--tokenizer is for llama2.c checkpoints; a model.json carries its own tokenizer");
  return load_model_json(path);
}

}  // namespace bitgpt
