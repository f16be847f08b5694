// The bitgptc IR: a straight-line program of operations over typed buffers for one
// token, split into two stages: `feed` (embed a token, run every layer, update the KV
// cache) and `next` (final norm, classifier, choose a token). It says *what* is
// computed; passes decide how (fusion, aliasing, placement) and the backends emit it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/constants.h"
#include "ir/model.h"

namespace bitgpt::ir {

enum class ValueType {
  Act,     // int32 Q16 activations
  Q8,      // int32 amax followed by int8 codes
  Scores,  // int32 attention scores / weights, n_heads x window
  HeadScores,  // int32 scratch: one head's scores, window
  Codes,   // int8 scratch (a quantised attention query)
  Acc64,   // int64 scratch accumulators
  Lut16,   // int16 lookup tables (81 entries per group of 4 activations)
  Pairs16,  // int8 codes unpacked into int16 pairs, as SMLAD reads them (a column each)
};

// How an op that reads a weight matrix runs its dot products. The first three are row
// kernels (one definition, bitgpt_ops.h, specialised per instruction set: plain C, the
// Armv7E-M SMLAD kernels of bitgpt_smlad.h, the Helium kernels of bitgpt_mve.h); a program
// uses one of them for every such op. Lookup runs a ternary product on tables of partial
// sums (bitgpt_lut.h), in chunks of Op::lut_chunk groups of 4 inputs. Every kernel
// computes the same integers.
enum class Kernel { PlainC, Smlad, Helium, Lookup };
const char* kernel_name(Kernel k);  // "portable", "smlad", "mve", "lut4": the --kernel names
inline bool is_row_kernel(Kernel k) { return k != Kernel::Lookup; }

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
  // two or three products of one input, an output each (the attention's wq, wk, wv)
  SharedMatMul,
};

// What passes and backends need to know of an op kind, in one table (ir.cpp).
struct OpTraits {
  const char* name;
  // The output is the first input, changed (Rope, AttnSoftmax; MatMul when accumulating
  // into the residual): with a buffer of its own it is a copy of that input, then updated.
  bool updates_first_input;
  bool updates_first_input_when_accumulating;
  // Inputs (bit i: inputs[i]) whose buffer the output may take when they die here:
  // the kernel reads element i before it writes element i.
  unsigned reusable_inputs;
  bool reads_matrix;    // Op::matrix (and matrix2, matrix3) are weights it multiplies
  bool chooses_token;   // the last op of `next`: returns the chosen token
};
const OpTraits& op_traits(OpKind k);
const char* op_name(OpKind k);

using ValueId = int;
constexpr ValueId kNoValue = -1;

struct Op {
  OpKind kind;
  std::string label;            // e.g. "l0.attn.wq"
  std::vector<ValueId> inputs;  // an op that updates in place changes inputs[0]
  std::vector<ValueId> outputs;
  std::vector<ValueId> scratch;  // buffers only this op uses
  int layer = -1;
  // Constants::matrices: matrix2 is the FFN's w3, or a SharedMatMul's second matrix
  // (outputs[1]); matrix3 its third (outputs[2]), if any.
  int matrix = -1, matrix2 = -1, matrix3 = -1;
  int norm = -1;                  // Constants::norms
  int activation = 0;             // BG_ACT_*
  int heads = 0;                  // Rope: how many heads the vector holds
  bool accumulate = false;        // MatMul: the product is added to the residual inputs[0]
  Kernel kernel = Kernel::PlainC; // ops that read a matrix: how (select_kernels)
  int lut_chunk = 0;              // Lookup: groups of 4 inputs per table chunk
  ValueId lut_tables = kNoValue;  // Lookup: its tables (also in scratch)
  ValueId lut_partials = kNoValue;  // Lookup: partial sums of its own, if any (also in scratch)
  ValueId input_pairs = kNoValue;   // ClassifySample: its input unpacked into int16 pairs, if any (also in scratch)

  const OpTraits& traits() const { return op_traits(kind); }
  // The quantised vector a matrix op multiplies (after the residual when accumulating).
  ValueId matrix_input() const { return accumulate ? inputs[1] : inputs[0]; }
  // MatMul accumulating: the residual the product is added to.
  ValueId residual() const { return accumulate ? inputs[0] : kNoValue; }
  bool updates_first_input() const {
    return traits().updates_first_input || (accumulate && traits().updates_first_input_when_accumulating);
  }
  bool reads_matrix() const { return traits().reads_matrix; }
  // The matrices it multiplies: matrix, then matrix2 and matrix3 where set.
  std::vector<int> matrices() const;
  bool chooses_token() const { return traits().chooses_token; }
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
  // The rows of every matrix op multiplies, together (a gated FFN's w1 and w3, a shared
  // product's matrices): its output rows for the cost model and the report.
  int64_t product_rows(const Op& op) const;
  // Sets the window and KV precision, resizing the window-sized buffers.
  void set_attention(int64_t window, int kv_bits);
  int64_t kv_cache_bytes() const;

  ValueId add_value(std::string name, ValueType type, int64_t elements);
  // Consumers of value v (op indices), in program order.
  std::vector<int> users(ValueId v) const;
};

}  // namespace bitgpt::ir
