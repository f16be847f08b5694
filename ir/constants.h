// Weights and parameters lowered to the integer forms the runtime computes with
// (bitgpt_ops.h): packed weight rows with fixed-point scales, int8 tables, Q16 norm
// parameters, RoPE frequencies. Produced once by lowering; the interpreter and the
// backends read the same bytes, which is what makes them agree bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/bitgpt_lut.h"

namespace bitgpt {

struct LoweredMatrix {
  std::string name;
  int32_t dtype = BG_W_INT8;  // BG_W_*
  int32_t rows = 0, cols = 0, row_bytes = 0;
  bool per_row = false;
  std::vector<uint8_t> data;
  std::vector<bg_mult> scales;  // scale / 127

  bg_matrix view() const;
  int64_t flash_bytes() const { return static_cast<int64_t>(data.size() + scales.size() * sizeof(bg_mult)); }
};

struct LoweredTable {
  std::string name;
  int32_t rows = 0, cols = 0;
  std::vector<int8_t> data;
  std::vector<bg_mult> row_mult;  // scale * 65536

  bg_table view() const;
  int64_t flash_bytes() const { return static_cast<int64_t>(data.size() + row_mult.size() * sizeof(bg_mult)); }
};

struct LoweredNorm {
  std::string name;
  int32_t kind = BG_NORM_RMS, n = 0;
  std::vector<int32_t> gain, bias;  // Q16; empty when absent
  int64_t eps_q32 = 0;

  bg_norm_params view() const;
  int64_t flash_bytes() const { return static_cast<int64_t>(4 * (gain.size() + bias.size())); }
};

struct Constants {
  std::vector<LoweredMatrix> matrices;
  std::vector<LoweredNorm> norms;
  LoweredTable tok_embeddings;
  bool has_pos_embeddings = false;
  LoweredTable pos_embeddings;
  std::vector<uint64_t> rope_freq_q40;  // per pair, turns per position in Q40
  int classifier = -1;                  // index into matrices
  bool classifier_tied = false;         // the classifier's codes are tok_embeddings' (shared in flash)

  // Flash of everything lowered, counting the tied classifier's codes once.
  int64_t flash_bytes() const;
};

// A positive real as a bg_mult (compile time only).
bg_mult mult_from_double(double v);

}  // namespace bitgpt
