#include "frontend/tensor_schema.h"

namespace bitgpt {

namespace {

void add_norm(std::vector<TensorSpec>& out, const Architecture& a, const std::string& prefix, int64_t n) {
  if (a.norm != NormKind::RmsNormNoGain) out.push_back({prefix + ".weight", {n}, TensorRole::NormGain});
  if (a.norm == NormKind::LayerNorm) out.push_back({prefix + ".bias", {n}, TensorRole::NormBias});
}

}  // namespace

std::vector<TensorSpec> tensor_schema(const Architecture& a) {
  std::vector<TensorSpec> s;
  s.push_back({"tok_embeddings", {a.vocab_size, a.d_model}, TensorRole::Table});
  if (a.positions == Positions::Learned)
    s.push_back({"pos_embeddings", {a.max_seq_len, a.d_model}, TensorRole::Table});
  for (int64_t l = 0; l < a.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    add_norm(s, a, p + "attn_norm", a.d_model);
    s.push_back({p + "attn.wq", {a.q_dim(), a.d_model}, TensorRole::Matrix});
    s.push_back({p + "attn.wk", {a.kv_dim(), a.d_model}, TensorRole::Matrix});
    s.push_back({p + "attn.wv", {a.kv_dim(), a.d_model}, TensorRole::Matrix});
    if (a.sub_norm) add_norm(s, a, p + "attn.sub_norm", a.q_dim());
    s.push_back({p + "attn.wo", {a.d_model, a.q_dim()}, TensorRole::Matrix});
    add_norm(s, a, p + "ffn_norm", a.d_model);
    s.push_back({p + "ffn.w1", {a.d_ff, a.d_model}, TensorRole::Matrix});
    if (a.ffn == FfnKind::SwiGLU) s.push_back({p + "ffn.w3", {a.d_ff, a.d_model}, TensorRole::Matrix});
    if (a.sub_norm) add_norm(s, a, p + "ffn.sub_norm", a.d_ff);
    s.push_back({p + "ffn.w2", {a.d_model, a.d_ff}, TensorRole::Matrix});
  }
  add_norm(s, a, "final_norm", a.d_model);
  if (!a.tied_classifier) s.push_back({"classifier", {a.vocab_size, a.d_model}, TensorRole::Matrix});
  return s;
}

bool role_accepts(TensorRole role, WeightDType dtype) {
  switch (role) {
    case TensorRole::Matrix: return true;
    case TensorRole::Table: return dtype == WeightDType::F32 || dtype == WeightDType::Int8;
    case TensorRole::NormGain:
    case TensorRole::NormBias: return dtype == WeightDType::F32;
  }
  return false;
}

}  // namespace bitgpt
