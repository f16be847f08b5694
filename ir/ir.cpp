#include "ir/ir.h"

#include <cmath>

namespace bitgpt::ir {

int64_t Value::bytes() const {
  switch (type) {
    case ValueType::Act:
    case ValueType::Scores:
    case ValueType::HeadScores: return 4 * elements;
    case ValueType::Q8: return 4 + ((elements + 3) / 4) * 4;
    case ValueType::Codes: return ((elements + 3) / 4) * 4;
    case ValueType::Acc64: return 8 * elements;
    case ValueType::Lut16:
    case ValueType::Pairs16: return ((2 * elements + 3) / 4) * 4;
  }
  return 0;
}

const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::PlainC: return "portable";
    case Kernel::Smlad: return "smlad";
    case Kernel::Helium: return "mve";
    case Kernel::Lookup: return "lut4";
  }
  return "?";
}

const OpTraits& op_traits(OpKind k) {
  // {name, updates_first_input, ..._when_accumulating, reusable_inputs, reads_matrix, chooses_token}
  static const OpTraits embed{"embed", false, false, 0, false, false};
  static const OpTraits norm{"norm", false, false, 0b1, false, false};
  static const OpTraits quantize{"quantize", false, false, 0, false, false};
  static const OpTraits matmul{"matmul", false, true, 0, true, false};
  static const OpTraits add{"add", false, false, 0b11, false, false};
  static const OpTraits mul{"mul", false, false, 0b11, false, false};
  static const OpTraits activation{"activation", false, false, 0b1, false, false};
  static const OpTraits rope_angles{"rope_angles", false, false, 0, false, false};
  static const OpTraits rope{"rope", true, false, 0b1, false, false};
  static const OpTraits kv_write{"kv_write", false, false, 0, false, false};
  static const OpTraits attn_scores{"attn_scores", false, false, 0, false, false};
  static const OpTraits attn_softmax{"attn_softmax", true, false, 0b1, false, false};
  static const OpTraits attn_weighted_sum{"attn_weighted_sum", false, false, 0, false, false};
  static const OpTraits sample{"sample", false, false, 0, false, true};
  static const OpTraits norm_quantize{"norm_quantize", false, false, 0, false, false};
  static const OpTraits ffn_up{"ffn_up", false, false, 0, true, false};
  static const OpTraits attention{"attention", false, false, 0, false, false};
  static const OpTraits classify_sample{"classify_sample", false, false, 0, true, true};
  static const OpTraits shared_matmul{"shared_matmul", false, false, 0, true, false};
  switch (k) {
    case OpKind::Embed: return embed;
    case OpKind::Norm: return norm;
    case OpKind::Quantize: return quantize;
    case OpKind::MatMul: return matmul;
    case OpKind::Add: return add;
    case OpKind::Mul: return mul;
    case OpKind::Activation: return activation;
    case OpKind::RopeAngles: return rope_angles;
    case OpKind::Rope: return rope;
    case OpKind::KvWrite: return kv_write;
    case OpKind::AttnScores: return attn_scores;
    case OpKind::AttnSoftmax: return attn_softmax;
    case OpKind::AttnWeightedSum: return attn_weighted_sum;
    case OpKind::Sample: return sample;
    case OpKind::NormQuantize: return norm_quantize;
    case OpKind::FfnUp: return ffn_up;
    case OpKind::Attention: return attention;
    case OpKind::ClassifySample: return classify_sample;
    case OpKind::SharedMatMul: return shared_matmul;
  }
  return embed;
}

const char* op_name(OpKind k) { return op_traits(k).name; }

std::vector<int> Op::matrices() const {
  std::vector<int> m;
  for (int i : {matrix, matrix2, matrix3})
    if (i >= 0) m.push_back(i);
  return m;
}

int64_t Graph::product_rows(const Op& op) const {
  int64_t rows = 0;
  for (int m : op.matrices()) rows += constants.matrices[static_cast<size_t>(m)].rows;
  return rows;
}

bg_attn_shape Graph::attn_shape() const {
  bg_attn_shape a;
  a.n_heads = static_cast<int32_t>(arch.n_heads);
  a.n_kv_heads = static_cast<int32_t>(arch.n_kv_heads);
  a.head_dim = static_cast<int32_t>(arch.head_dim);
  a.window = static_cast<int32_t>(window);
  a.kv_bits = kv_bits;
  a.score_mult = mult_from_double(1.0 / (127.0 * bg_kv_qmax(kv_bits) * std::sqrt(static_cast<double>(arch.head_dim)) * 65536.0));
  return a;
}

void Graph::set_attention(int64_t w, int bits) {
  window = w;
  kv_bits = bits;
  for (Value& v : values) {
    if (v.type == ValueType::Scores) v.elements = arch.n_heads * window;
    if (v.type == ValueType::HeadScores) v.elements = window;
  }
}

int64_t Graph::kv_cache_bytes() const {
  const int64_t row = kv_bits == 4 ? (arch.head_dim + 1) / 2 : arch.head_dim;
  // keys and values: codes plus one scale16 per (slot, kv head)
  return arch.n_layers * window * arch.n_kv_heads * 2 * (row + 2);
}

ValueId Graph::add_value(std::string name, ValueType type, int64_t elements) {
  values.push_back({std::move(name), type, elements});
  return static_cast<ValueId>(values.size() - 1);
}

std::vector<int> Graph::users(ValueId v) const {
  std::vector<int> out;
  for (size_t i = 0; i < ops.size(); ++i)
    for (ValueId in : ops[i].inputs)
      if (in == v) { out.push_back(static_cast<int>(i)); break; }
  return out;
}

}  // namespace bitgpt::ir
