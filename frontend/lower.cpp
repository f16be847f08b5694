#include "frontend/lower.h"

#include <cmath>
#include <numbers>
#include <algorithm>

#include <fmt/format.h>

#include "support/diagnostics.h"

namespace bitgpt {

using namespace ir;

namespace {

// f32 weights become int8 with one absmax scale per row.
void quantize_rows_int8(const Tensor& t, std::vector<int8_t>& codes, std::vector<double>& scales) {
  for (int64_t r = 0; r < t.rows(); ++r) {
    double amax = 0;
    for (int64_t c = 0; c < t.cols(); ++c) amax = std::max(amax, std::fabs(t.at(r, c)));
    const double s = amax > 0 ? amax / 127.0 : 0.0;
    scales.push_back(s);
    for (int64_t c = 0; c < t.cols(); ++c)
      codes.push_back(s > 0 ? static_cast<int8_t>(std::clamp<long>(std::lround(t.at(r, c) / s), -127, 127)) : 0);
  }
}

LoweredMatrix lower_matrix(const Tensor& t) {
  LoweredMatrix m;
  m.name = t.name;
  m.rows = static_cast<int32_t>(t.rows());
  m.cols = static_cast<int32_t>(t.cols());
  std::vector<int8_t> codes = t.codes;
  std::vector<double> scales(t.scales.begin(), t.scales.end());
  WeightDType dt = t.dtype;
  if (dt == WeightDType::F32) {
    codes.clear();
    scales.clear();
    quantize_rows_int8(t, codes, scales);
    dt = WeightDType::Int8;
  }
  m.dtype = dt == WeightDType::Ternary ? BG_W_TERNARY2 : (dt == WeightDType::Binary ? BG_W_BINARY1 : BG_W_INT8);
  m.row_bytes = static_cast<int32_t>(dtype_row_bytes(dt, t.cols()));
  m.data.assign(static_cast<size_t>(m.row_bytes) * m.rows, 0);
  for (int64_t r = 0; r < t.rows(); ++r) {
    uint8_t* row = m.data.data() + r * m.row_bytes;
    for (int64_t c = 0; c < t.cols(); ++c) {
      const int8_t code = codes[static_cast<size_t>(r * t.cols() + c)];
      if (dt == WeightDType::Int8) row[c] = static_cast<uint8_t>(code);
      else if (dt == WeightDType::Ternary) row[c / 4] |= static_cast<uint8_t>((code == 0 ? 0 : (code > 0 ? 1 : 3)) << (2 * (c % 4)));
      else if (code > 0) row[c / 8] |= static_cast<uint8_t>(1 << (c % 8));
    }
  }
  m.per_row = scales.size() > 1;
  for (double s : scales) m.scales.push_back(mult_from_double(s / 127.0));
  return m;
}

LoweredTable lower_table(const Tensor& t) {
  LoweredTable out;
  out.name = t.name;
  out.rows = static_cast<int32_t>(t.rows());
  out.cols = static_cast<int32_t>(t.cols());
  std::vector<double> scales;
  if (t.dtype == WeightDType::F32) {
    quantize_rows_int8(t, out.data, scales);
  } else {
    out.data = t.codes;
    for (int64_t r = 0; r < t.rows(); ++r) scales.push_back(t.scales.size() == 1 ? t.scales[0] : t.scales[r]);
  }
  for (double s : scales) out.row_mult.push_back(mult_from_double(s * 65536.0));
  return out;
}

// Norm gains and biases are Q16 int32: |v| < 32768. A larger value is refused, not
// saturated (a model whose norm parameters do not fit would silently compute another
// function); docs/model-format.md states the limit.
int32_t to_q16(double v, const std::string& tensor, int64_t i) {
  constexpr double kLimit = 32768.0 - 1.0 / 65536.0;
  if (!(std::abs(v) <= kLimit))
    throw Error(fmt::format("{}[{}]: {} is outside the range of norm parameters (Q16: |v| <= {:.6f})", tensor, i, v, kLimit));
  return static_cast<int32_t>(std::llround(v * 65536.0));
}

// Builds the op list, one helper per block of the transformer.
class Builder {
 public:
  Builder(const Model& m, Graph& g) : m_(m), g_(g), a_(m.arch) {}

  void build() {
    lower_constants();
    ValueId x = g_.add_value("x", ValueType::Act, a_.d_model);
    emit({OpKind::Embed, "embed", {}, {x}});
    if (a_.positions == Positions::Rope) {
      // cos and sin of every pair's angle, once per token for all layers' RoPE steps
      rope_cs_ = g_.add_value("rope_cs", ValueType::Act, a_.head_dim);
      emit({OpKind::RopeAngles, "rope_angles", {}, {rope_cs_}});
    }
    for (int l = 0; l < a_.n_layers; ++l) {
      x = attention_block(l, x);
      x = ffn_block(l, x);
    }
    g_.hidden = x;
    g_.next_stage_begin = static_cast<int>(g_.ops.size());
    const ValueId hq = norm_quantize("final_norm", -1, x, a_.d_model);
    const ValueId logits = g_.add_value("logits", ValueType::Act, a_.vocab_size);
    Op cls{OpKind::MatMul, "classifier", {hq}, {logits}};
    cls.matrix = g_.constants.classifier;
    emit(cls);
    emit({OpKind::Sample, "sample", {logits}, {}});
  }

 private:
  void lower_constants() {
    Constants& c = g_.constants;
    c.tok_embeddings = lower_table(m_.tensor("tok_embeddings"));
    if (a_.positions == Positions::Learned) {
      c.has_pos_embeddings = true;
      c.pos_embeddings = lower_table(m_.tensor("pos_embeddings"));
    } else {
      for (int64_t i = 0; i < a_.head_dim / 2; ++i) {
        const double freq = std::pow(a_.rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(a_.head_dim));
        const double turns = freq / (2.0 * std::numbers::pi);
        c.rope_freq_q40.push_back(static_cast<uint64_t>(std::llround(std::ldexp(turns - std::floor(turns), 40))));
      }
    }
    if (a_.tied_classifier) {
      Tensor tied = m_.tensor("tok_embeddings");
      tied.name = "classifier";
      c.classifier = add_matrix(tied);
      // the same int8 codes as the embedding table: the emitted classifier reads those
      c.classifier_tied = g_.constants.matrices[c.classifier].data.size() == c.tok_embeddings.data.size() &&
                          std::equal(c.tok_embeddings.data.begin(), c.tok_embeddings.data.end(),
                                     reinterpret_cast<const int8_t*>(g_.constants.matrices[c.classifier].data.data()));
    } else {
      c.classifier = add_matrix(m_.tensor("classifier"));
    }
  }

  int add_matrix(const Tensor& t) {
    g_.constants.matrices.push_back(lower_matrix(t));
    return static_cast<int>(g_.constants.matrices.size() - 1);
  }

  int add_norm(const std::string& prefix, int64_t n) {
    LoweredNorm ln;
    ln.name = prefix;
    ln.kind = a_.norm == NormKind::LayerNorm ? BG_NORM_LAYER : BG_NORM_RMS;
    ln.n = static_cast<int32_t>(n);
    ln.eps_q32 = std::llround(std::ldexp(a_.norm_eps, 32));
    if (m_.has(prefix + ".weight"))
      for (int64_t i = 0; i < n; ++i) ln.gain.push_back(to_q16(m_.tensor(prefix + ".weight").at(0, i), m_.source + ": " + prefix + ".weight", i));
    if (m_.has(prefix + ".bias"))
      for (int64_t i = 0; i < n; ++i) ln.bias.push_back(to_q16(m_.tensor(prefix + ".bias").at(0, i), m_.source + ": " + prefix + ".bias", i));
    g_.constants.norms.push_back(std::move(ln));
    return static_cast<int>(g_.constants.norms.size() - 1);
  }

  void emit(Op op) { g_.ops.push_back(std::move(op)); }

  static std::string lp(int l) { return "l" + std::to_string(l) + "."; }

  // "layers.3.attn.sub_norm" -> "l3.attn.sub_norm"
  static std::string short_label(const std::string& tensor_prefix) {
    if (tensor_prefix.rfind("layers.", 0) != 0) return tensor_prefix;
    return "l" + tensor_prefix.substr(7);
  }

  // norm -> quantize, returning the int8 codes. An RMSNorm with no bias is one operation,
  // NormQuantize, whose definition puts the 1/RMS on the codes' scale (bitgpt_fused.h,
  // bg_rms_norm_codes_via), its gained vector in scratch y (which fuse-norm-quantize drops
  // where x is not read again: then x holds it); other norms are a Norm, then a Quantize.
  ValueId norm_quantize(const std::string& tensor_prefix, int layer, ValueId x, int64_t n) {
    const std::string label = short_label(tensor_prefix);
    const ValueId y = g_.add_value(label + ".out", ValueType::Act, n);
    const int norm_index = add_norm(tensor_prefix, n);
    const LoweredNorm& ln = g_.constants.norms[static_cast<size_t>(norm_index)];
    if (ln.kind == BG_NORM_RMS && ln.bias.empty()) {
      const ValueId q = g_.add_value(label + ".q8", ValueType::Q8, n);
      Op op{OpKind::NormQuantize, label, {x}, {q}, {y}};
      op.layer = layer;
      op.norm = norm_index;
      emit(op);
      return q;
    }
    Op norm{OpKind::Norm, label, {x}, {y}};
    norm.layer = layer;
    norm.norm = norm_index;
    emit(norm);
    return quantize(label, layer, y, n);
  }

  ValueId quantize(const std::string& base, int layer, ValueId y, int64_t n) {
    const ValueId q = g_.add_value(base + ".q8", ValueType::Q8, n);
    Op op{OpKind::Quantize, base + ".quantize", {y}, {q}};
    op.layer = layer;
    emit(op);
    return q;
  }

  ValueId matmul(const std::string& tensor, const std::string& label, int layer, ValueId codes, const std::string& out_name) {
    const int mi = add_matrix(m_.tensor(tensor));
    const ValueId out = g_.add_value(out_name, ValueType::Act, g_.constants.matrices[mi].rows);
    Op op{OpKind::MatMul, label, {codes}, {out}};
    op.layer = layer;
    op.matrix = mi;
    emit(op);
    return out;
  }

  ValueId add(const std::string& label, int layer, ValueId x, ValueId y) {
    const ValueId out = g_.add_value("x", ValueType::Act, a_.d_model);
    Op op{OpKind::Add, label, {x, y}, {out}};
    op.layer = layer;
    emit(op);
    return out;
  }

  ValueId attention_block(int l, ValueId x) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const ValueId xq = norm_quantize(p + "attn_norm", l, x, a_.d_model);
    ValueId q = matmul(p + "attn.wq", lp(l) + "wq", l, xq, lp(l) + "q");
    ValueId k = matmul(p + "attn.wk", lp(l) + "wk", l, xq, lp(l) + "k");
    const ValueId v = matmul(p + "attn.wv", lp(l) + "wv", l, xq, lp(l) + "v");
    if (a_.positions == Positions::Rope) {
      q = rope(l, q, a_.n_heads, "q");
      k = rope(l, k, a_.n_kv_heads, "k");
    }
    Op write{OpKind::KvWrite, lp(l) + "kv_write", {k, v}, {}};
    write.layer = l;
    emit(write);

    const ValueId scores = g_.add_value(lp(l) + "scores", ValueType::Scores, a_.n_heads * g_.window);
    Op sc{OpKind::AttnScores, lp(l) + "attn_scores", {q}, {scores}, {g_.add_value(lp(l) + "q8_head", ValueType::Codes, a_.head_dim)}};
    sc.layer = l;
    emit(sc);
    const ValueId weights = g_.add_value(lp(l) + "attn_weights", ValueType::Scores, a_.n_heads * g_.window);
    Op sm{OpKind::AttnSoftmax, lp(l) + "attn_softmax", {scores}, {weights}};
    sm.layer = l;
    emit(sm);
    ValueId o = g_.add_value(lp(l) + "attn_out", ValueType::Act, a_.q_dim());
    Op ws{OpKind::AttnWeightedSum, lp(l) + "attn_weighted_sum", {weights}, {o}, {g_.add_value(lp(l) + "attn_acc", ValueType::Acc64, a_.head_dim)}};
    ws.layer = l;
    emit(ws);

    const ValueId oq = a_.sub_norm ? norm_quantize(p + "attn.sub_norm", l, o, a_.q_dim()) : quantize(lp(l) + "attn_out", l, o, a_.q_dim());
    const ValueId proj = matmul(p + "attn.wo", lp(l) + "wo", l, oq, lp(l) + "attn_proj");
    return add(lp(l) + "attn_residual", l, x, proj);
  }

  ValueId rope(int l, ValueId v, int64_t heads, const std::string& which) {
    const ValueId out = g_.add_value(lp(l) + which + "_rot", ValueType::Act, heads * a_.head_dim);
    Op op{OpKind::Rope, lp(l) + "rope_" + which, {v, rope_cs_}, {out}};
    op.layer = l;
    op.heads = static_cast<int>(heads);
    emit(op);
    return out;
  }

  ValueId ffn_block(int l, ValueId x) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const ValueId xq = norm_quantize(p + "ffn_norm", l, x, a_.d_model);
    const ValueId up = matmul(p + "ffn.w1", lp(l) + "w1", l, xq, lp(l) + "ffn_w1");
    const int act = a_.ffn == FfnKind::SwiGLU ? BG_ACT_SILU : (a_.ffn == FfnKind::ReLU2 ? BG_ACT_RELU2 : BG_ACT_GELU);
    ValueId h = g_.add_value(lp(l) + "ffn_act", ValueType::Act, a_.d_ff);
    Op op{OpKind::Activation, lp(l) + "ffn_activation", {up}, {h}};
    op.layer = l;
    op.activation = act;
    emit(op);
    if (a_.ffn == FfnKind::SwiGLU) {
      const ValueId gate_up = matmul(p + "ffn.w3", lp(l) + "w3", l, xq, lp(l) + "ffn_w3");
      const ValueId hidden = g_.add_value(lp(l) + "ffn_hidden", ValueType::Act, a_.d_ff);
      Op mul{OpKind::Mul, lp(l) + "ffn_gate", {h, gate_up}, {hidden}};
      mul.layer = l;
      emit(mul);
      h = hidden;
    }
    const ValueId hq = a_.sub_norm ? norm_quantize(p + "ffn.sub_norm", l, h, a_.d_ff) : quantize(lp(l) + "ffn_hidden", l, h, a_.d_ff);
    const ValueId down = matmul(p + "ffn.w2", lp(l) + "w2", l, hq, lp(l) + "ffn_down");
    return add(lp(l) + "ffn_residual", l, x, down);
  }

  const Model& m_;
  Graph& g_;
  const Architecture& a_;
  ValueId rope_cs_ = kNoValue;  // RoPE: this token's cos and sin per pair
};

}  // namespace

Graph lower_model(const Model& model, int64_t window, int kv_bits) {
  Graph g;
  g.arch = model.arch;
  g.tokenizer = model.tokenizer;
  g.name = model.name;
  g.window = window;
  g.kv_bits = kv_bits;
  Builder(model, g).build();
  return g;
}

}  // namespace bitgpt
