#include "frontend/load_model.h"

#include <filesystem>

#include "support/diagnostics.h"
#include "support/text.h"
#include "frontend/gguf.h"
#include "frontend/hf_folder.h"
#include "frontend/llama2c.h"
#include "frontend/model_json.h"

namespace bitgpt {

namespace fs = std::filesystem;

namespace {

Model load_any(const std::string& path, const std::string& tokenizer_path) {
  // A tokenizer means a llama2.c checkpoint (whatever its first byte: an empty .bin is
  // then "too short for a llama2.c header", not a question about --tokenizer).
  const bool json_name = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (looks_like_hf_folder(path)) {
    if (!tokenizer_path.empty()) fail(tokenizer_path, "", "--tokenizer is for llama2.c checkpoints; a Hugging Face folder carries its own tokenizer.json");
    return load_hf_folder(path);
  }
  if (looks_like_gguf(path)) {
    if (!tokenizer_path.empty()) fail(tokenizer_path, "", "--tokenizer is for llama2.c checkpoints; a GGUF file carries its own tokenizer");
    return load_gguf(path);
  }
  if (looks_like_llama2c(path) || (!tokenizer_path.empty() && !json_name)) return load_llama2c(path, tokenizer_path);
  if (!tokenizer_path.empty()) fail(tokenizer_path, "", "--tokenizer is for llama2.c checkpoints; a model.json carries its own tokenizer");
  return load_model_json(path);
}

}  // namespace

Model load_model(const std::string& path, const std::string& tokenizer_path) {
  Model m = load_any(path, tokenizer_path);
  // No name in the checkpoint: the file's (a folder's own name for a Hugging Face folder).
  if (m.name.empty()) {
    fs::path p = fs::path(path).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    if (p.filename() == "config.json") p = p.parent_path();
    if (p.filename().empty() || p.filename() == "." || p.filename() == "..") p = fs::absolute(p).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    m.name = c_identifier_from(std::filesystem::is_directory(p) ? p.filename().string() : p.stem().string(), 48);
  }
  return m;
}

}  // namespace bitgpt
