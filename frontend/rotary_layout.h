// Two layouts of the rows of wq and wk. This compiler (and llama2.c, and GGUF's llama)
// rotates adjacent pairs (2i, 2i+1) of each head; llama.cpp's bitnet architecture (like
// Hugging Face's rotate_half) rotates dims i and i + head_dim/2 together. The same
// permutation of the rows of wq and wk leaves every attention score unchanged.
#pragma once

#include <cstdint>

namespace bitgpt {

// The rotate-half row that holds pair-layout row i of a head.
inline int64_t rotate_half_row(int64_t i, int64_t head_dim) { return i % 2 == 0 ? i / 2 : head_dim / 2 + i / 2; }

}  // namespace bitgpt
