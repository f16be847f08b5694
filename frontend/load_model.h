// Loads a checkpoint of any supported format, recognised from the file itself: a Hugging
// Face folder, GGUF, model.json (the native format) or a llama2.c-family .bin with its
// tokenizer.bin.
#pragma once

#include <string>

#include "ir/model.h"

namespace bitgpt {

Model load_model(const std::string& path, const std::string& tokenizer_path);

}  // namespace bitgpt
