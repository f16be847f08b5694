// Two layouts of the rows of wq and wk. This compiler (and llama2.c, and GGUF's llama)
// rotates adjacent pairs (2i, 2i+1) of each head; llama.cpp's bitnet architecture and
// Hugging Face's Llama and BitNet (rotate_half) rotate dims i and i + head_dim/2
// together. The same permutation of the rows of wq and wk leaves every attention score
// unchanged.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ir/model.h"

namespace bitgpt {

// The rotate-half row that holds pair-layout row i of a head.
inline int64_t rotate_half_row(int64_t i, int64_t head_dim) { return i % 2 == 0 ? i / 2 : head_dim / 2 + i / 2; }

// wq or wk (values or codes, and per-row scales) from the rotate-half row layout to this
// compiler's pair layout.
inline void rotate_half_to_pairs(Tensor& w, int64_t head_dim) {
  const int64_t cols = w.cols(), heads = w.rows() / head_dim;
  const Tensor src = w;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < head_dim; ++i) {
      const int64_t from = h * head_dim + rotate_half_row(i, head_dim), to = h * head_dim + i;
      for (int64_t c = 0; c < cols; ++c) {
        const size_t dst = static_cast<size_t>(to * cols + c), s = static_cast<size_t>(from * cols + c);
        if (!w.values.empty()) w.values[dst] = src.values[s];
        if (!w.codes.empty()) w.codes[dst] = src.codes[s];
      }
      if (w.scales.size() > 1) w.scales[static_cast<size_t>(to)] = src.scales[static_cast<size_t>(from)];
    }
}

// Rows of wq or wk (a row-major [rows, cols] array) from this compiler's pair layout to
// the rotate-half layout.
template <typename T>
void pairs_to_rotate_half(std::vector<T>& rows, int64_t cols, int64_t head_dim) {
  const std::vector<T> src = rows;
  const int64_t heads = static_cast<int64_t>(rows.size()) / cols / head_dim;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < head_dim; ++i) {
      const int64_t from = h * head_dim + i, to = h * head_dim + rotate_half_row(i, head_dim);
      std::copy_n(src.begin() + from * cols, cols, rows.begin() + to * cols);
    }
}

}  // namespace bitgpt
