// GGUF, llama.cpp's checkpoint format (version 2 and 3): a header of typed metadata,
// tensor infos (name, dims with the fastest-varying first, ggml type, offset), and the
// aligned tensor data.
//  - read: architectures `llama` and `bitnet` (sub-norms), tensor types F32, F16, BF16,
//    Q4_0, Q8_0, Q6_K, TQ1_0, TQ2_0 and Q1_0; the SentencePiece-style `llama` tokenizer
//    (tokenizer.ggml.*). Ternary blocks with one scale per matrix (or per row) stay
//    ternary; float tensors whose values are one scale times {-1, 0, +1} become ternary
//    too (docs/model-format.md, "GGUF").
//  - write: architecture `llama` (or `bitnet` for a model with sub-norms), every tensor
//    F32, the tokenizer when it is SentencePiece-style BPE.
#pragma once

#include <string>

#include "ir/model.h"

namespace bitgpt {

bool looks_like_gguf(const std::string& path);

// Throws Error naming the file, the key, tensor or byte offset, and what was expected.
Model load_gguf(const std::string& path);

// The GGUF bytes of m; throws Error for what GGUF's llama architecture cannot express.
std::vector<uint8_t> gguf_bytes(const Model& m);

}  // namespace bitgpt
