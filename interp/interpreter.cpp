#include "interp/interpreter.h"

#include <cstring>

#include "runtime/bitgpt_fused.h"
#include "runtime/bitgpt_lut.h"
#include "support/diagnostics.h"

namespace bitgpt {

using namespace ir;

Interpreter::Interpreter(const CompiledModel& p) : p_(p), g_(p.graph), attn_(p.graph.attn_shape()) {
  for (const PackedMatrix& m : p.matrices) matrices_.push_back(m.data.view());
  arena_.assign(static_cast<size_t>((p.arena.bytes + 7) / 8), 0);
  const int64_t rb = bg_kv_row_bytes(&attn_);
  const auto slots = static_cast<size_t>(g_.window * g_.arch.n_kv_heads);
  for (int64_t l = 0; l < g_.arch.n_layers; ++l) {
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
  std::fill(arena_.begin(), arena_.end(), 0);
  for (auto& k : kv_k_) std::fill(k.begin(), k.end(), 0);
  for (auto& v : kv_v_) std::fill(v.begin(), v.end(), 0);
  for (auto& k : kv_ks_) std::fill(k.begin(), k.end(), 0);
  for (auto& v : kv_vs_) std::fill(v.begin(), v.end(), 0);
}

int Interpreter::feed(int32_t token) {
  if (token < 0 || token >= g_.arch.vocab_size) return kFeedBadToken;
  if (g_.constants.has_pos_embeddings && position_ >= g_.arch.max_seq_len) return kFeedContextFull;
  token_ = token;
  run(0, static_cast<size_t>(g_.next_stage_begin));
  ++position_;
  return kFeedOk;
}

int32_t Interpreter::next(int32_t temperature_q16) {
  temperature_ = temperature_q16;
  chosen_ = -1;
  run(static_cast<size_t>(g_.next_stage_begin), p_.steps.size());
  return chosen_;
}

std::vector<int32_t> Interpreter::last_logits() const {
  // The input of the reference program's Sample step; a fused classifier has no logits buffer.
  for (const Step& s : p_.steps)
    if (g_.ops[s.op].kind == OpKind::Sample) {
      const auto* logits = reinterpret_cast<const int32_t*>(reinterpret_cast<const uint8_t*>(arena_.data()) + s.inputs[0].offset);
      return std::vector<int32_t>(logits, logits + g_.values[s.inputs[0].value].elements);
    }
  throw Error("internal error: the program has no logits buffer (the classifier is fused)");
}

void Interpreter::run(size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) execute(p_.steps[i]);
}

bg_kv_layer Interpreter::kv(int layer) {
  return {kv_k_[layer].data(), kv_v_[layer].data(), kv_ks_[layer].data(), kv_vs_[layer].data()};
}

bg_lut_scratch Interpreter::lut_scratch(const Step& s, const Op& op) {
  int32_t* sums = nullptr;
  if (s.lut_partials == LutPartials::Scratch) sums = act(*find_operand(s, op.lut_partials));
  else if (s.lut_partials != LutPartials::None) sums = act(s.outputs[0]);
  return {reinterpret_cast<uint16_t*>(at(*find_operand(s, op.lut_tables))), sums, op.lut_chunk, s.lut_partials == LutPartials::PairedInOutput ? 1 : 0};
}

void Interpreter::execute(const Step& s) {
  const Op& op = g_.ops[s.op];
  const Constants& c = g_.constants;
  auto in = [&](size_t i) -> const Operand& { return s.inputs[i]; };
  auto out = [&](size_t i) -> const Operand& { return s.outputs[i]; };
  auto tmp = [&](size_t i) -> const Operand& { return s.scratch[i]; };
  const int32_t n_in = op.inputs.empty() ? 0 : static_cast<int32_t>(g_.values[op.inputs[0]].elements);
  if (s.copy_first_input) std::memcpy(at(out(0)), at(in(0)), static_cast<size_t>(g_.values[op.inputs[0]].bytes()));
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
      if (!s.scratch.empty() || s.normalise_over_input)
        bg_fused_norm_quantize_via(act(in(0)), &p, s.scratch.empty() ? act(in(0)) : act(tmp(0)), codes(out(0)), &amax(out(0)));
      else
        bg_fused_norm_quantize(act(in(0)), &p, codes(out(0)), &amax(out(0)));
      break;
    }
    case OpKind::MatMul: {
      const bg_matrix* w = &matrices_[static_cast<size_t>(op.matrix)];
      const Operand& x = in(op.accumulate ? 1 : 0);
      if (op.kernel == Kernel::Lookup) {
        const bg_lut_scratch lut = lut_scratch(s, op);
        bg_lut_op_matvec(w, codes(x), amax(x), act(out(0)), op.accumulate ? 1 : 0, &lut);
      } else {
        bg_op_matvec(w, codes(x), amax(x), act(out(0)), op.accumulate ? 1 : 0);
      }
      break;
    }
    case OpKind::FfnUp: {
      const bg_matrix* w1 = &matrices_[static_cast<size_t>(op.matrix)];
      const bg_matrix* w3 = op.matrix2 >= 0 ? &matrices_[static_cast<size_t>(op.matrix2)] : nullptr;
      if (op.kernel == Kernel::Lookup) {
        const bg_lut_scratch lut = lut_scratch(s, op);
        bg_lut_fused_ffn_up(w1, w3, op.activation, codes(in(0)), amax(in(0)), act(out(0)), &lut);
      } else {
        bg_fused_ffn_up(w1, w3, op.activation, codes(in(0)), amax(in(0)), act(out(0)));
      }
      break;
    }
    case OpKind::SharedMatMul: {
      const auto w = [&](int m) { return m >= 0 ? &matrices_[static_cast<size_t>(m)] : nullptr; };
      int32_t* out3 = op.outputs.size() > 2 ? act(out(2)) : nullptr;
      if (op.kernel == Kernel::Lookup) {
        const bg_lut_scratch lut = lut_scratch(s, op);
        bg_lut_op_matvecs(w(op.matrix), w(op.matrix2), w(op.matrix3), codes(in(0)), amax(in(0)), act(out(0)), act(out(1)), out3, &lut);
      } else {
        bg_op_matvecs(w(op.matrix), w(op.matrix2), w(op.matrix3), codes(in(0)), amax(in(0)), act(out(0)), act(out(1)), out3);
      }
      break;
    }
    case OpKind::Add: bg_op_add(act(in(0)), act(in(1)), act(out(0)), n_in); break;
    case OpKind::Mul: bg_op_mul(act(in(0)), act(in(1)), act(out(0)), n_in); break;
    case OpKind::Activation: bg_op_activation(op.activation, act(in(0)), act(out(0)), n_in); break;
    case OpKind::RopeAngles: bg_op_rope_angles(act(out(0)), c.rope_freq_q40.data(), attn_.head_dim / 2, position_); break;
    case OpKind::Rope: bg_op_rope(act(out(0)), op.heads, attn_.head_dim, act(in(1))); break;
    case OpKind::KvWrite: {
      const bg_kv_layer cache = kv(op.layer);
      bg_op_kv_write(&cache, &attn_, position_, act(in(0)), act(in(1)));
      break;
    }
    case OpKind::AttnScores: {
      const bg_kv_layer cache = kv(op.layer);
      bg_op_attn_scores(&cache, &attn_, position_, act(in(0)), reinterpret_cast<int8_t*>(at(tmp(0))), act(out(0)));
      break;
    }
    case OpKind::AttnSoftmax: bg_op_attn_softmax(&attn_, position_, act(out(0))); break;
    case OpKind::AttnWeightedSum: {
      const bg_kv_layer cache = kv(op.layer);
      bg_op_attn_weighted_sum(&cache, &attn_, position_, act(in(0)), reinterpret_cast<int64_t*>(at(tmp(0))), act(out(0)));
      break;
    }
    case OpKind::Attention: {
      const bg_kv_layer cache = kv(op.layer);
      bg_fused_attention(&cache, &attn_, position_, act(in(0)), reinterpret_cast<int8_t*>(at(tmp(0))), reinterpret_cast<int64_t*>(at(tmp(1))),
                         act(tmp(2)), act(out(0)));
      break;
    }
    case OpKind::Sample: chosen_ = bg_op_sample(act(in(0)), n_in, temperature_, &rng_, &checksum_); break;
    case OpKind::ClassifySample:
      chosen_ = bg_fused_classify_sample(&matrices_[static_cast<size_t>(op.matrix)], codes(in(0)),
                                         op.input_pairs == kNoValue ? nullptr : reinterpret_cast<uint32_t*>(at(*find_operand(s, op.input_pairs))), amax(in(0)), temperature_, &rng_, &checksum_);
      break;
  }
}

}  // namespace bitgpt
