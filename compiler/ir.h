// The bitgptc IR: a straight-line program of operations over typed buffers for one
// token, split into two stages: `feed` (embed a token, run every layer, update the KV
// cache) and `next` (final norm, classifier, choose a token). It says *what* is
// computed; passes decide how (fusion, aliasing, placement) and the backends emit it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/constants.h"
#include "frontend/model.h"

namespace bitgpt::ir {

enum class ValueType {
  Act,     // int32 Q16 activations
  Q8,      // int32 amax followed by int8 codes
  Scores,  // int32 attention scores / weights, n_heads x window
  HeadScores,  // int32 scratch: one head's scores, window
  Codes,   // int8 scratch (a quantised attention query)
  Acc64,   // int64 scratch accumulators
  Lut16,   // int16 lookup tables (81 entries per group of 4 activations)
};

enum class Kernel { Portable, Lut4 };
const char* kernel_name(Kernel k);

struct Value {
  std::string name;
  ValueType type = ValueType::Act;
  int64_t elements = 0;

  int64_t bytes() const;
  int64_t alignment() const { return type == ValueType::Acc64 ? 8 : 4; }
};

enum class OpKind {
  // reference operations (bitgpt_ops.h)
  Embed, Norm, Quantize, MatMul, Add, Mul, Activation, RopeAngles, Rope, KvWrite,
  AttnScores, AttnSoftmax, AttnWeightedSum, Sample,
  // fused operations (bitgpt_fused.h)
  NormQuantize, FfnUp, Attention, ClassifySample,
};

const char* op_name(OpKind k);

// Whether op k updates its first input in place (its output is that input, changed).
bool op_updates_first_input(OpKind k, bool accumulate);

using ValueId = int;
constexpr ValueId kNoValue = -1;

struct Op {
  OpKind kind;
  std::string label;            // e.g. "l0.attn.wq"
  std::vector<ValueId> inputs;  // an op that updates in place changes inputs[0]
  std::vector<ValueId> outputs;
  std::vector<ValueId> scratch;  // buffers only this op uses
  int layer = -1;
  int matrix = -1, matrix2 = -1;  // Constants::matrices (matrix2: the FFN's w3)
  int norm = -1;                  // Constants::norms
  int activation = 0;             // BG_ACT_*
  int heads = 0;                  // Rope: how many heads the vector holds
  bool accumulate = false;        // MatMul / FfnUp output added to the residual
  Kernel kernel = Kernel::Portable;  // how the matrix product runs (select_kernels)
  int lut_chunk = 0;                 // Lut4: groups of 4 inputs per table chunk
};

struct Graph {
  Architecture arch;
  Tokenizer tokenizer;
  std::string name;
  Constants constants;
  std::vector<Value> values;
  std::vector<Op> ops;
  int64_t window = 1;         // attention window: KV-cache slots per layer
  int kv_bits = 8;            // KV-cache codes: 8 or 4 bits
  int next_stage_begin = 0;   // ops [0, this) are `feed`, the rest `next`
  ValueId hidden = kNoValue;  // the residual stream `next` reads; it persists between calls

  bg_attn_shape attn_shape() const;
  // Sets the window and KV precision, resizing the window-sized buffers.
  void set_attention(int64_t window, int kv_bits);
  int64_t kv_cache_bytes() const;

  ValueId add_value(std::string name, ValueType type, int64_t elements);
  // Consumers of value v (op indices), in program order.
  std::vector<int> users(ValueId v) const;
};

}  // namespace bitgpt::ir
