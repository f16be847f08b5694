// What a checkpoint says, after loading and validation: the architecture, the tokenizer
// and every tensor decoded to codes and scales. Frontends produce this; nothing
// downstream knows which file format it came from.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bitgpt {

enum class Positions { Rope, Learned };
enum class NormKind { RmsNorm, RmsNormNoGain, LayerNorm };
enum class FfnKind { SwiGLU, ReLU2, GELU };
enum class WeightDType { F32, Int8, Ternary, Binary };

struct Architecture {
  int64_t d_model = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int64_t d_ff = 0, vocab_size = 0, max_seq_len = 0;
  Positions positions = Positions::Rope;
  double rope_theta = 10000.0;
  NormKind norm = NormKind::RmsNorm;
  double norm_eps = 1e-5;
  FfnKind ffn = FfnKind::SwiGLU;
  bool sub_norm = false;
  bool tied_classifier = true;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
};

// How text becomes tokens (runtime/bitgpt_tokenizer.h): greedy longest match over the
// table, or sentencepiece BPE as llama2.c runs it.
enum class TokenizerKind { Table, Bpe };

// BPE encoding tables hold 16-bit token ids.
constexpr int64_t kMaxBpeVocab = 65535;

// A BPE token scoring at or below this never merges: llama2.c starts its search for the
// best merge at -1e10 and keeps a pair only when its score is strictly greater.
constexpr float kNeverMerges = -1e10f;

// The token table: token i decodes to pieces[i] (raw bytes, possibly empty).
struct Tokenizer {
  TokenizerKind kind = TokenizerKind::Table;
  int64_t bos = 0;
  std::vector<std::string> pieces;
  // BPE only: merge scores (higher merges first) and which tokens are the byte-fallback
  // tokens ("<0xNN>" in the checkpoint; their piece is that one byte).
  std::vector<float> scores;
  std::vector<bool> byte_fallback;
};

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;  // [rows, cols] or [n]
  WeightDType dtype = WeightDType::F32;
  std::vector<float> values;   // F32 only
  std::vector<int8_t> codes;   // quantised dtypes: one code per weight (-1/0/+1, ±1, int8)
  std::vector<float> scales;   // quantised dtypes: 1 (per tensor) or rows (per row)

  int64_t rows() const { return shape.size() == 2 ? shape[0] : 1; }
  int64_t cols() const { return shape.back(); }
  int64_t elements() const { return rows() * cols(); }
  // Real value of weight (r, c).
  double at(int64_t r, int64_t c) const;
};

struct Model {
  std::string name;
  std::string source;  // the file it was loaded from, for messages
  std::vector<std::string> inputs;  // every file the loader read (manifest, sidecar, tokenizer): a build's dependencies
  Architecture arch;
  Tokenizer tokenizer;
  std::map<std::string, Tensor> tensors;

  const Tensor& tensor(const std::string& name) const;
  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  int64_t parameters() const;
};

const char* dtype_name(WeightDType t);
int64_t dtype_row_bytes(WeightDType t, int64_t cols);

}  // namespace bitgpt
