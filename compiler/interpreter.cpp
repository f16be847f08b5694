#include "compiler/interpreter.h"

#include <cstring>

#include "frontend/diagnostics.h"
#include "runtime/bitgpt_fused.h"

namespace bitgpt {

using namespace ir;

Interpreter::Interpreter(const Graph& g) : g_(g), attn_(g.attn_shape()) {
  storage_.resize(g.values.size());
  for (size_t i = 0; i < g.values.size(); ++i) storage_[i].assign(static_cast<size_t>((g.values[i].bytes() + 7) / 8), 0);
  const int64_t rb = bg_kv_row_bytes(&attn_);
  const auto slots = static_cast<size_t>(g.window * g.arch.n_kv_heads);
  for (int64_t l = 0; l < g.arch.n_layers; ++l) {
    kv_k_.emplace_back(slots * rb, 0);
    kv_v_.emplace_back(slots * rb, 0);
    kv_ks_.emplace_back(slots, 0);
    kv_vs_.emplace_back(slots, 0);
  }
  reset(0);
}

void Interpreter::reset(uint64_t seed) {
  position_ = 0;
  rng_ = seed;
  checksum_ = BG_FNV_OFFSET;
  for (auto& s : storage_) std::fill(s.begin(), s.end(), 0);
  for (auto& k : kv_k_) std::fill(k.begin(), k.end(), 0);
  for (auto& v : kv_v_) std::fill(v.begin(), v.end(), 0);
  for (auto& k : kv_ks_) std::fill(k.begin(), k.end(), 0);
  for (auto& v : kv_vs_) std::fill(v.begin(), v.end(), 0);
}

int Interpreter::feed(int32_t token) {
  if (token < 0 || token >= g_.arch.vocab_size) return kFeedBadToken;
  if (g_.constants.has_pos_embeddings && position_ >= g_.arch.max_seq_len) return kFeedContextFull;
  token_ = token;
  run(0, g_.next_stage_begin);
  ++position_;
  return kFeedOk;
}

int32_t Interpreter::next(int32_t temperature_q16) {
  temperature_ = temperature_q16;
  chosen_ = -1;
  run(g_.next_stage_begin, static_cast<int>(g_.ops.size()));
  return chosen_;
}

std::vector<int32_t> Interpreter::last_logits() const {
  // The input of the reference graph's Sample op; a fused classifier has no logits buffer.
  for (const Op& op : g_.ops)
    if (op.kind == OpKind::Sample) {
      const auto* p = reinterpret_cast<const int32_t*>(storage_[op.inputs[0]].data());
      return std::vector<int32_t>(p, p + g_.values[op.inputs[0]].elements);
    }
  throw Error("internal error: the graph has no logits buffer (the classifier is fused)");
}

void Interpreter::run(int begin, int end) {
  for (int i = begin; i < end; ++i) execute(g_.ops[i]);
}

int32_t* Interpreter::act(ValueId v) { return reinterpret_cast<int32_t*>(storage_[v].data()); }
int32_t& Interpreter::amax(ValueId v) { return *reinterpret_cast<int32_t*>(storage_[v].data()); }
int8_t* Interpreter::codes(ValueId v) { return reinterpret_cast<int8_t*>(storage_[v].data()) + 4; }

void Interpreter::copy(ValueId from, ValueId to) {
  std::memcpy(storage_[to].data(), storage_[from].data(), static_cast<size_t>(g_.values[from].bytes()));
}

bg_kv_layer Interpreter::kv(int layer) {
  return {kv_k_[layer].data(), kv_v_[layer].data(), kv_ks_[layer].data(), kv_vs_[layer].data()};
}

void Interpreter::execute(const Op& op) {
  const Constants& c = g_.constants;
  auto in = [&](size_t i) { return op.inputs[i]; };
  auto out = [&](size_t i) { return op.outputs[i]; };
  auto scratch8 = [&](size_t i) { return reinterpret_cast<int8_t*>(storage_[op.scratch[i]].data()); };
  auto scratch64 = [&](size_t i) { return reinterpret_cast<int64_t*>(storage_[op.scratch[i]].data()); };
  const int32_t n_in = op.inputs.empty() ? 0 : static_cast<int32_t>(g_.values[in(0)].elements);
  switch (op.kind) {
    case OpKind::Embed: {
      const bg_table tok = c.tok_embeddings.view();
      const bg_table pos = c.pos_embeddings.view();
      bg_op_embed(act(out(0)), &tok, c.has_pos_embeddings ? &pos : nullptr, token_, position_);
      break;
    }
    case OpKind::Norm: {
      const bg_norm_params p = c.norms[op.norm].view();
      bg_op_norm(act(in(0)), &p, act(out(0)));
      break;
    }
    case OpKind::Quantize: bg_op_quantize(act(in(0)), n_in, codes(out(0)), &amax(out(0))); break;
    case OpKind::NormQuantize: {
      const bg_norm_params p = c.norms[op.norm].view();
      if (op.scratch.empty()) bg_fused_norm_quantize(act(in(0)), &p, codes(out(0)), &amax(out(0)));
      else bg_fused_norm_quantize_via(act(in(0)), &p, reinterpret_cast<int32_t*>(storage_[op.scratch[0]].data()), codes(out(0)), &amax(out(0)));
      break;
    }
    case OpKind::MatMul: {
      const bg_matrix w = c.matrices[op.matrix].view();
      const ValueId x = op.accumulate ? in(1) : in(0);
      if (op.accumulate) copy(in(0), out(0));
      bg_op_matvec(&w, codes(x), amax(x), act(out(0)), op.accumulate ? 1 : 0);
      break;
    }
    case OpKind::FfnUp: {
      const bg_matrix w1 = c.matrices[op.matrix].view();
      const bg_matrix w3 = op.matrix2 >= 0 ? c.matrices[op.matrix2].view() : bg_matrix{};
      bg_fused_ffn_up(&w1, op.matrix2 >= 0 ? &w3 : nullptr, op.activation, codes(in(0)), amax(in(0)), act(out(0)));
      break;
    }
    case OpKind::Add: bg_op_add(act(in(0)), act(in(1)), act(out(0)), n_in); break;
    case OpKind::Mul: bg_op_mul(act(in(0)), act(in(1)), act(out(0)), n_in); break;
    case OpKind::Activation: bg_op_activation(op.activation, act(in(0)), act(out(0)), n_in); break;
    case OpKind::RopeAngles: bg_op_rope_angles(act(out(0)), c.rope_freq_q40.data(), attn_.head_dim / 2, position_); break;
    case OpKind::Rope:
      copy(in(0), out(0));
      bg_op_rope(act(out(0)), op.heads, attn_.head_dim, act(in(1)));
      break;
    case OpKind::KvWrite: {
      const bg_kv_layer cache = kv(op.layer);
      bg_op_kv_write(&cache, &attn_, position_, act(in(0)), act(in(1)));
      break;
    }
    case OpKind::AttnScores: {
      const bg_kv_layer cache = kv(op.layer);
      bg_op_attn_scores(&cache, &attn_, position_, act(in(0)), scratch8(0), act(out(0)));
      break;
    }
    case OpKind::AttnSoftmax:
      copy(in(0), out(0));
      bg_op_attn_softmax(&attn_, position_, act(out(0)));
      break;
    case OpKind::AttnWeightedSum: {
      const bg_kv_layer cache = kv(op.layer);
      bg_op_attn_weighted_sum(&cache, &attn_, position_, act(in(0)), scratch64(0), act(out(0)));
      break;
    }
    case OpKind::Attention: {
      const bg_kv_layer cache = kv(op.layer);
      bg_fused_attention(&cache, &attn_, position_, act(in(0)), scratch8(0), scratch64(1), reinterpret_cast<int32_t*>(storage_[op.scratch[2]].data()),
                         act(out(0)));
      break;
    }
    case OpKind::Sample: chosen_ = bg_op_sample(act(in(0)), n_in, temperature_, &rng_, &checksum_); break;
    case OpKind::ClassifySample: {
      const bg_matrix w = c.matrices[op.matrix].view();
      chosen_ = bg_fused_classify_sample(&w, codes(in(0)), amax(in(0)), temperature_, &rng_, &checksum_);
      break;
    }
  }
}

}  // namespace bitgpt
