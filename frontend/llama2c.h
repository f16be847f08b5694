// Importer for the llama2.c family of checkpoints with their tokenizer.bin:
//  - legacy llama2.c float32 (a 7-int header: dim, hidden_dim, n_layers, n_heads,
//    n_kv_heads, vocab_size (negative: separate classifier), seq_len);
//  - bitllama2.c ternary ("ak42" magic, version 1, 256-byte header): parameter-free
//    norms scaled by 1/n, sub-norms before wo and w2, per-matrix scales, 2-bit codes
//    MSB first.
// The variant is recognised from the header and the exact file size.
#pragma once

#include <string>

#include "ir/model.h"

namespace bitgpt {

bool looks_like_llama2c(const std::string& path);

// Throws Error naming the file, the field and the byte offset on any defect.
Model load_llama2c(const std::string& checkpoint, const std::string& tokenizer);

// The tokenizer.bin of llama2.c: vocab_size (score, length, bytes) entries. BOS is 1.
Tokenizer load_llama2c_tokenizer(const std::string& path, int64_t vocab_size);

}  // namespace bitgpt
